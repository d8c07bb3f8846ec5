#include "relay/smtp/sasl.h"

#include "relay/base/strings.h"

namespace relay {
namespace {

class BearerMechanism : public SaslMechanism {
 public:
  BearerMechanism(std::string name, std::string initial)
      : name_(std::move(name)), initial_(std::move(initial)) {}
  const std::string& name() const override { return name_; }
  Status Start(std::string* initial, bool* has_initial) override {
    *initial = initial_;
    *has_initial = true;
    return Status::Ok();
  }
  Status Step(std::string_view, std::string* response) override {
    // Any challenge after the token is an error report: answer so the
    // server can finish with its failure reply.
    response->clear();
    if (name_ == "OAUTHBEARER") response->push_back('\x01');
    return Status::Ok();
  }

 private:
  std::string name_;
  std::string initial_;
};

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

const std::vector<std::string>& DefaultMechanismPreference() {
  // No -PLUS variants here: the libsasl2 factory puts them first when the
  // TLS connection provides channel binding data (sasl_cyrus.cc).
  static const std::vector<std::string> kPref = {"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5",
                                                 "PLAIN", "LOGIN"};
  return kPref;
}

std::string ChooseMechanism(const std::vector<std::string>& preference,
                            const std::vector<std::string>& server) {
  for (const std::string& want : preference)
    for (const std::string& have : server)
      if (EqualsIgnoreCase(want, have)) return have;
  return "";
}

std::unique_ptr<SaslMechanism> NewXOAuth2(std::string user, std::string token) {
  return std::make_unique<BearerMechanism>(
      "XOAUTH2", "user=" + user + "\x01" + "auth=Bearer " + token + "\x01\x01");
}

std::unique_ptr<SaslMechanism> NewOAuthBearer(std::string user, std::string token) {
  return std::make_unique<BearerMechanism>(
      "OAUTHBEARER", "n,a=" + user + ",\x01" + "auth=Bearer " + token + "\x01\x01");
}

bool IsBearerMechanism(std::string_view name) { return name == "XOAUTH2" || name == "OAUTHBEARER"; }

bool BearerTokenRefused(int code, std::string_view text) {
  if (code == 535) return true;
  std::string t = ToLower(text);
  if (t.find("5.5.127") != std::string::npos) return true;
  bool token = t.find("token") != std::string::npos;
  return token && (t.find("expire") != std::string::npos || t.find("invalid") != std::string::npos);
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                 static_cast<unsigned char>(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  unsigned v = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;  // data after padding
    const char* p = std::char_traits<char>::find(kB64, 64, c);
    if (!p) return false;
    v = (v << 6) | static_cast<unsigned>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((v >> bits) & 0xFF));
    }
  }
  return pad <= 2;
}

}  // namespace relay
