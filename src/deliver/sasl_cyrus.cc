#include "relay/deliver/sasl_cyrus.h"

#include <sasl/sasl.h>

#include <cstring>
#include <mutex>

#include "relay/base/strings.h"

namespace relay {
namespace {

std::once_flag g_init;
int g_init_result = SASL_FAIL;

struct Secrets {
  std::string user;
  std::string password;
  sasl_secret_t* secret = nullptr;
  ~Secrets() {
    if (secret) {
      std::memset(secret->data, 0, secret->len);
      free(secret);
    }
    std::fill(password.begin(), password.end(), '\0');
  }
};

int GetSimple(void* ctx, int id, const char** result, unsigned* len) {
  auto* s = static_cast<Secrets*>(ctx);
  if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME) return SASL_BADPARAM;
  // The authorization identity is left empty: the server derives it.
  *result = id == SASL_CB_USER ? "" : s->user.c_str();
  if (len) *len = static_cast<unsigned>(std::strlen(*result));
  return SASL_OK;
}

int GetSecret(sasl_conn_t*, void* ctx, int id, sasl_secret_t** psecret) {
  auto* s = static_cast<Secrets*>(ctx);
  if (id != SASL_CB_PASS) return SASL_BADPARAM;
  if (!s->secret) {
    s->secret = static_cast<sasl_secret_t*>(malloc(sizeof(sasl_secret_t) + s->password.size()));
    s->secret->len = s->password.size();
    std::memcpy(s->secret->data, s->password.data(), s->password.size());
  }
  *psecret = s->secret;
  return SASL_OK;
}

// sasl_callback_t holds every callback as int (*)(void) and libsasl2 calls
// each with the signature its id implies. The conversion goes through
// void (*)(void), C's and GCC's generic function pointer type, which is
// what the API means: converting back to the real type before the call is
// done by libsasl2, as C allows.
template <typename R, typename... A>
int (*SaslProc(R (*fn)(A...)))(void) {
  return reinterpret_cast<int (*)(void)>(reinterpret_cast<void (*)(void)>(fn));
}

class CyrusMechanism : public SaslMechanism {
 public:
  // mechs: every acceptable mechanism, space-separated; libsasl2 picks the
  // strongest one it has a plugin for, and name() is that one after Start.
  CyrusMechanism(std::string mechs, std::string host, std::string user, std::string password,
                 std::string cb_name, std::string cb_data)
      : name_(std::move(mechs)), host_(std::move(host)), cb_name_(std::move(cb_name)),
        cb_data_(std::move(cb_data)) {
    secrets_.user = std::move(user);
    secrets_.password = std::move(password);
    callbacks_[0] = {SASL_CB_USER, SaslProc(&GetSimple), &secrets_};
    callbacks_[1] = {SASL_CB_AUTHNAME, SaslProc(&GetSimple), &secrets_};
    callbacks_[2] = {SASL_CB_PASS, SaslProc(&GetSecret), &secrets_};
    callbacks_[3] = {SASL_CB_LIST_END, nullptr, nullptr};
  }
  ~CyrusMechanism() override {
    if (conn_) sasl_dispose(&conn_);
  }
  const std::string& name() const override { return name_; }

  Status Start(std::string* initial, bool* has_initial) override {
    std::call_once(g_init, [] { g_init_result = sasl_client_init(nullptr); });
    if (g_init_result != SASL_OK) return Status::TempFail("cannot initialise libsasl2");
    int r = sasl_client_new("smtp", host_.c_str(), nullptr, nullptr, callbacks_, 0, &conn_);
    if (r != SASL_OK) return Status::TempFail("libsasl2: " + std::string(sasl_errstring(r, nullptr, nullptr)));
    if (!cb_data_.empty()) {
      // Not critical: a server without channel binding still gets a login
      // (SCRAM then says "client supports it, server did not offer it").
      cb_.name = cb_name_.c_str();
      cb_.critical = 0;
      cb_.len = cb_data_.size();
      cb_.data = reinterpret_cast<const unsigned char*>(cb_data_.data());
      sasl_setprop(conn_, SASL_CHANNEL_BINDING, &cb_);
    }
    const char* out = nullptr;
    unsigned len = 0;
    const char* chosen = nullptr;
    r = sasl_client_start(conn_, name_.c_str(), nullptr, &out, &len, &chosen);
    if (r != SASL_OK && r != SASL_CONTINUE) return Error(r);
    if (chosen) name_ = chosen;
    *has_initial = out != nullptr;
    initial->assign(out ? out : "", out ? len : 0);
    return Status::Ok();
  }

  Status Step(std::string_view challenge, std::string* response) override {
    const char* out = nullptr;
    unsigned len = 0;
    int r = sasl_client_step(conn_, challenge.data(), static_cast<unsigned>(challenge.size()), nullptr,
                             &out, &len);
    if (r != SASL_OK && r != SASL_CONTINUE) return Error(r);
    response->assign(out ? out : "", out ? len : 0);
    return Status::Ok();
  }

 private:
  Status Error(int r) {
    const char* detail = conn_ ? sasl_errdetail(conn_) : sasl_errstring(r, nullptr, nullptr);
    return Status::TempFail("libsasl2 " + name_ + ": " + Printable(detail ? detail : "error"));
  }

  std::string name_;
  std::string host_;
  std::string cb_name_, cb_data_;
  sasl_channel_binding_t cb_{};
  Secrets secrets_;
  sasl_callback_t callbacks_[4];
  sasl_conn_t* conn_ = nullptr;
};

class Factory : public SaslClientFactory {
 public:
  Factory(std::string user, std::string secret, std::vector<std::string> pref, std::string host,
          ChannelBindingSource cb, SecretRenewer renew)
      : user_(std::move(user)), secret_(std::move(secret)), pref_(std::move(pref)),
        host_(std::move(host)), cb_(std::move(cb)), renew_(std::move(renew)) {}
  bool Renew() override { return renew_ && renew_(&secret_); }
  ~Factory() override { std::fill(secret_.begin(), secret_.end(), '\0'); }

  std::unique_ptr<SaslMechanism> Create(const std::vector<std::string>& server,
                                        std::string* error) override {
    std::string cb_name, cb_data;
    bool have_cb = cb_ && cb_(&cb_name, &cb_data);
    std::vector<std::string> pref = pref_;
    if (pref.empty()) {
      if (have_cb) pref = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"};
      for (const std::string& m : DefaultMechanismPreference()) pref.push_back(m);
    }
    std::string mech = ChooseMechanism(pref, server);
    if (mech.empty()) {
      std::string offered, allowed;
      for (const std::string& m : server) offered += (offered.empty() ? "" : " ") + m;
      for (const std::string& m : pref) allowed += (allowed.empty() ? "" : " ") + m;
      *error = "no acceptable AUTH mechanism: the server offers " + Printable(offered) + "; allowed: " + allowed;
      return nullptr;
    }
    if (mech == "XOAUTH2") return NewXOAuth2(user_, secret_);
    if (mech == "OAUTHBEARER") return NewOAuthBearer(user_, secret_);
    // Every acceptable password mechanism the server offers, so that a
    // missing libsasl2 plugin means the next one, not a failed login.
    std::string list;
    for (const std::string& want : pref)
      for (const std::string& have : server)
        if (EqualsIgnoreCase(want, have) && want != "XOAUTH2" && want != "OAUTHBEARER")
          list += (list.empty() ? "" : " ") + have;
    mech = list;
    return std::make_unique<CyrusMechanism>(mech, host_, user_, secret_, have_cb ? cb_name : "",
                                            have_cb ? cb_data : "");
  }

 private:
  std::string user_, secret_;
  std::vector<std::string> pref_;
  std::string host_;
  ChannelBindingSource cb_;
  SecretRenewer renew_;
};

}  // namespace

std::unique_ptr<SaslClientFactory> NewSaslFactory(std::string user, std::string secret,
                                                  std::vector<std::string> preference,
                                                  std::string host, ChannelBindingSource cb,
                                                  SecretRenewer renew) {
  return std::make_unique<Factory>(std::move(user), std::move(secret), std::move(preference),
                                   std::move(host), std::move(cb), std::move(renew));
}

}  // namespace relay
