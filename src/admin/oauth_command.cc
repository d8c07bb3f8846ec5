// relayctl oauth login / import; see oauth_command.h and relayctl(8).
#include "relay/admin/oauth_command.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "relay/admin/oauth_flow.h"
#include "relay/admin/oauth_import.h"
#include "relay/base/strings.h"
#include "relay/deliver/oauth_policy.h"
#include "relay/deliver/oauth_refresh.h"
#include "relay/deliver/token_store.h"
#include "relay/queue/privileges.h"

namespace relay {
namespace {

enum class Flow { kCode, kDevice, kClientCredentials, kImport };

struct OAuthOptions {
  Flow flow = Flow::kCode;
  bool no_browser = false;  // kCode: print the URL only (always so: relayctl opens no browser)
  std::string provider, tenant, client_id, client_secret_file, scope;
  std::string authorize_endpoint, device_endpoint;  // overrides, for other servers
  std::string smarthost = "default";                // the token store's key
  std::string login_hint;
  int64_t timeout = 600;  // how long to wait for the browser or the device approval
  TokenFileFormat format = TokenFileFormat::kSaslXoauth2;
  bool format_set = false;
  std::string sasl_xoauth2_conf;
  std::string file;  // import: the token file, or "-"
};

int Fail(const Status& s) {
  std::fprintf(stderr, "relayctl: oauth: %s\n", s.message().c_str());
  return s.exit_code() ? s.exit_code() : EX_SOFTWARE;
}

int UsageError(const std::string& why) { return Fail(Status::Usage(why + " (see relayctl(8), oauth)")); }

// The value of an option that takes one; false when it is missing.
bool TakeValue(const std::vector<std::string>& args, size_t* i, std::string* out) {
  if (*i + 1 >= args.size()) return false;
  *out = args[++*i];
  return true;
}

Status ParseOptions(const std::vector<std::string>& args, bool import, OAuthOptions* o) {
  if (import) o->flow = Flow::kImport;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    auto value = [&](std::string* out) { return TakeValue(args, &i, out); };
    if (!import && a == "--device") o->flow = Flow::kDevice;
    else if (!import && a == "--no-browser") o->no_browser = true;
    else if (!import && a == "--client-credentials") o->flow = Flow::kClientCredentials;
    else if (a == "--provider" && value(&o->provider)) continue;
    else if (a == "--tenant" && value(&o->tenant)) continue;
    else if (a == "--client-id" && value(&o->client_id)) continue;
    else if (a == "--client-secret-file" && value(&o->client_secret_file)) continue;
    else if (a == "--smarthost" && value(&o->smarthost)) continue;
    else if (!import && a == "--scope" && value(&o->scope)) continue;
    else if (!import && a == "--login-hint" && value(&o->login_hint)) continue;
    else if (!import && a == "--authorize-endpoint" && value(&o->authorize_endpoint)) continue;
    else if (!import && a == "--device-endpoint" && value(&o->device_endpoint)) continue;
    else if (!import && a == "--timeout" && value(&v)) {
      if (!ParseDuration(v, &o->timeout) || o->timeout <= 0)
        return Status::Usage("--timeout '" + Printable(v) + "' is not a duration");
    } else if (import && a == "--format" && value(&v)) {
      if (!ParseTokenFileFormat(v, &o->format))
        return Status::Usage("--format '" + Printable(v) + "': use sasl-xoauth2, mutt_oauth2 or oama");
      o->format_set = true;
    } else if (import && a == "--sasl-xoauth2-conf" && value(&o->sasl_xoauth2_conf)) {
      continue;
    } else if (a == "--client-secret" || a == "--refresh-token" || a == "--access-token") {
      return Status::Usage(a + ": secrets are never taken from the command line (other users see it in "
                           "ps): use --client-secret-file FILE, or - for standard input");
    } else if (import && o->file.empty() && (a == "-" || a.rfind("-", 0) != 0)) {
      o->file = a;
    } else {
      return Status::Usage("unknown or incomplete option '" + Printable(a) + "'");
    }
  }
  if (import && o->file.empty()) return Status::Usage("oauth import needs the token file (or - for standard input)");
  if (import && !o->format_set) return Status::Usage("oauth import needs --format sasl-xoauth2, mutt_oauth2 or oama");
  return Status::Ok();
}

// ---------------------------------------------------------------- secrets from files

// A whole file, or standard input for "-"; the trailing newline is the
// editor's, not the secret's.
Status ReadSecretSource(const std::string& path, size_t limit, std::string* out) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::FromErrno(errno, path).Prefixed("cannot read");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (text.size() > limit) return Status::DataErr((path == "-" ? std::string("standard input") : path) + " is too large");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  *out = std::move(text);
  return Status::Ok();
}

// ---------------------------------------------------------------- HTTPS

// One POST of a form to an https:// endpoint, through relay-deliver's
// PostForm (verified TLS, oauth_ca_file, no redirects, timeout_oauth).
// The error names the endpoint and the transport's reason, never the form.
Status HttpsPost(const Config& cfg, const std::string& url, const std::string& form, long* status, std::string* body) {
  if (url.rfind("https://", 0) != 0) return Status::Config(url + ": OAuth2 endpoints must be https:// URLs");
  std::string transport_error;
  Status s = PostForm(cfg, url, form, status, body, &transport_error);
  if (!s.ok()) return s;
  if (*status == 0) return Status::TempFail(url + ": " + transport_error);
  return Status::Ok();
}

// ---------------------------------------------------------------- what the login needs

// The provider's endpoints with relay.conf's and the options' overrides,
// and the client's id and secret.
struct Client {
  LoginEndpoints ep;
  std::string tenant;
  std::string client_id;
  std::string client_secret;
  std::string scope;
};

Status PrepareClient(const Config& cfg, const OAuthOptions& o, Client* c) {
  std::string provider = o.provider.empty() ? cfg.provider : o.provider;
  if (provider.empty())
    return Status::Usage("no provider: set provider in relay.conf (gmail, google-workspace-relay, microsoft365, "
                         "outlook) or give --provider");
  c->tenant = !o.tenant.empty() ? o.tenant : provider == cfg.provider ? cfg.oauth_tenant : "";
  Status s = LookupLoginEndpoints(provider, c->tenant, &c->ep);
  if (!s.ok()) return s;
  // relay-deliver refreshes at relay.conf's endpoint: the login must use it too.
  if (provider == cfg.provider && !cfg.oauth_token_endpoint.empty() &&
      !FollowMicrosoftTokenEndpoint(cfg.oauth_token_endpoint, &c->ep))
    c->ep.token_endpoint = cfg.oauth_token_endpoint;
  if (!o.authorize_endpoint.empty()) c->ep.authorize_endpoint = o.authorize_endpoint;
  if (!o.device_endpoint.empty()) c->ep.device_endpoint = o.device_endpoint;
  c->scope = !o.scope.empty() ? o.scope : provider == cfg.provider && !cfg.oauth_scope.empty() ? cfg.oauth_scope : c->ep.scope;
  c->client_id = o.client_id;
  if (!o.client_secret_file.empty()) {
    s = ReadSecretSource(o.client_secret_file, 4096, &c->client_secret);
    if (!s.ok()) return s;
    if (c->client_secret.empty()) return Status::DataErr(o.client_secret_file + " holds no client secret");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- the token store

// Writes one entry under the store's lock, as the spool's owner.
Status StoreToken(const Config& cfg, const std::string& key, OAuthToken* tok) {
  uid_t owner = 0;
  Status s = SpoolOwner(cfg, &owner);
  if (!s.ok()) return s;
  std::string path = TokenStorePath(cfg);
  TokenStoreLock lock;
  if (!(s = lock.Acquire(path, 30000)).ok()) return s;
  TokenStore store;
  bool missing = false;
  s = LoadTokenStore(path, owner, &store, &missing);
  if (!s.ok() && !missing) return s;
  store.tokens[key] = *tok;
  s = SaveTokenStore(Env::Default(), path, store);
  store.Wipe();
  tok->Wipe();
  if (!s.ok()) return s;
  std::printf("stored    %s in %s (mode 0600)\n", key.c_str(), path.c_str());
  return Status::Ok();
}

OAuthToken TokenFor(const Client& c, const TokenResponse& t, const char* kind) {
  OAuthToken tok;
  tok.provider = c.ep.provider;
  tok.kind = kind;
  tok.client_id = c.client_id;
  tok.client_secret = c.client_secret;
  tok.tenant = c.tenant;
  tok.token_endpoint = c.ep.token_endpoint;
  tok.scope = c.scope;
  tok.refresh_token = t.refresh_token;
  tok.access_token = t.access_token;
  int64_t now = time(nullptr);
  tok.access_expiry = t.expires_in > 0 ? now + t.expires_in : 0;
  tok.refresh_token_issued = t.refresh_token.empty() ? 0 : now;
  tok.last_refresh = now;
  return tok;
}

// What came back, without a token's text.
void Report(const TokenResponse& t) {
  std::printf("token     access token for %lld s%s\n", static_cast<long long>(t.expires_in),
              t.refresh_token.empty() ? ", no refresh token" : ", refresh token received");
  std::fflush(stdout);
}

Status ExchangeAndStore(const Config& cfg, const OAuthOptions& o, const Client& c,
                        std::vector<std::pair<std::string, std::string>> form, const char* kind) {
  form.emplace_back("client_id", c.client_id);
  if (!c.client_secret.empty()) form.emplace_back("client_secret", c.client_secret);
  long http = 0;
  std::string body;
  Status s = HttpsPost(cfg, c.ep.token_endpoint, FormEncode(form), &http, &body);
  if (!s.ok()) return s;
  TokenResponse t;
  if (!(s = ParseTokenResponse(http, body, &t)).ok()) return s;
  if (std::string(kind) == "refresh" && t.refresh_token.empty())
    return Status::NoPerm("the provider sent no refresh token: for Microsoft the scope needs offline_access; "
                          "for Google, access_type=offline and prompt=consent (relayctl asks for both)");
  Report(t);
  OAuthToken tok = TokenFor(c, t, kind);
  return StoreToken(cfg, o.smarthost, &tok);
}

// ---------------------------------------------------------------- authorization code + PKCE

// One HTTP request on a fresh connection: its request line's target.
Status ReadRequestTarget(int fd, std::string* target) {
  std::string req;
  char buf[2048];
  while (req.find("\r\n") == std::string::npos && req.size() < 16384) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) return Status::TempFail("the browser sent no request");
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return Status::TempFail("the browser closed the connection");
    req.append(buf, static_cast<size_t>(n));
  }
  std::string line = req.substr(0, req.find("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (line.rfind("GET ", 0) != 0 || sp2 <= sp1) return Status::DataErr("not an HTTP GET");
  *target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  return Status::Ok();
}

void Respond(int fd, int code, const std::string& text) {
  std::string html = "<!doctype html><title>relay</title><p>" + text + "</p>\n";
  std::string resp = "HTTP/1.1 " + std::to_string(code) + (code == 200 ? " OK" : " Bad Request") +
                     "\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
                     std::to_string(html.size()) + "\r\n\r\n" + html;
  (void)!send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);  // a browser gone is no reason to die
}

// Waits on the loopback socket for the browser's redirect; other requests
// (a favicon) get 404, a redirect without this login's state gets 400, and
// the wait goes on until the timeout.
Status AwaitRedirect(int lfd, const std::string& state, int64_t timeout, std::string* code) {
  int64_t deadline = time(nullptr) + timeout;
  for (;;) {
    int64_t left = deadline - time(nullptr);
    struct pollfd p = {lfd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left * 1000)) <= 0)
      return Status::TempFail("no redirect from the browser within " + std::to_string(timeout) +
                              " s: run relayctl oauth login again (--timeout to wait longer)");
    int fd = accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;
    std::string target;
    // A connection that says nothing (a browser's preconnect), or not a
    // GET, is dropped and the wait goes on.
    if (!ReadRequestTarget(fd, &target).ok()) {
      close(fd);
      continue;
    }
    if (target.find("code=") == std::string::npos && target.find("error=") == std::string::npos) {
      static const char kNotFound[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!send(fd, kNotFound, sizeof kNotFound - 1, MSG_NOSIGNAL);
      close(fd);
      continue;
    }
    bool not_ours = false;
    Status s = ParseRedirectTarget(target, state, code, &not_ours);
    if (not_ours) {
      // Any local user can reach this port: a redirect that is not this
      // login's is refused and the login goes on, or anyone could end it.
      // The page and the line name the problem, never the request's text.
      Respond(fd, 400, "relay: this is not the answer to the login in progress: " + s.message() + ".");
      close(fd);
      std::printf("ignored   a redirect that is not this login's: %s; still waiting\n", s.message().c_str());
      std::fflush(stdout);
      continue;
    }
    Respond(fd, s.ok() ? 200 : 400, s.ok() ? "relay has the authorization; you may close this page."
                                           : "relay: the login failed; see relayctl's message.");
    close(fd);
    return s;
  }
}

// A listening socket on 127.0.0.1, on a port the kernel picks.
Status ListenLoopback(int* lfd, int* port) {
  *lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (*lfd < 0) return Status::FromErrno(errno, "socket");
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(*lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(*lfd, 4) != 0 ||
      getsockname(*lfd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Status s = Status::FromErrno(errno, "listening on 127.0.0.1");
    close(*lfd);
    return s;
  }
  *port = ntohs(a.sin_port);
  return Status::Ok();
}

Status CodeLogin(const Config& cfg, const OAuthOptions& o, const Client& c) {
  Pkce pkce;
  std::string state;
  Status s = NewPkce(&pkce);
  if (s.ok()) s = NewState(&state);
  if (!s.ok()) return s;
  int lfd = -1, port = 0;
  if (!(s = ListenLoopback(&lfd, &port)).ok()) return s;
  std::string redirect = "http://127.0.0.1:" + std::to_string(port) + "/";
  AuthorizationRequest req{c.ep.authorize_endpoint, c.client_id, redirect, c.scope, state, pkce.challenge,
                           o.login_hint, c.ep.authorize_extra};
  std::printf("open      this URL in a browser and log in as the mailbox relay sends from:\n%s\n",
              AuthorizationUrl(req).c_str());
  std::printf("waiting   for the redirect to %s (from another machine: ssh -L %d:127.0.0.1:%d THIS-HOST, "
              "then open the URL there)\n", redirect.c_str(), port, port);
  std::fflush(stdout);
  std::string code;
  s = AwaitRedirect(lfd, state, o.timeout, &code);
  close(lfd);
  if (!s.ok()) return s;
  return ExchangeAndStore(cfg, o, c,
                          {{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect},
                           {"code_verifier", pkce.verifier}, {"scope", c.scope}},
                          "refresh");
}

// ---------------------------------------------------------------- device code

Status DeviceLogin(const Config& cfg, const OAuthOptions& o, const Client& c) {
  if (c.ep.device_endpoint.empty())
    return Status::Usage(c.ep.provider + " has no device-code login for mail: use relayctl oauth login "
                         "--no-browser (the browser may be on another machine, through ssh -L)");
  std::vector<std::pair<std::string, std::string>> form = {{"client_id", c.client_id}, {"scope", c.scope}};
  long http = 0;
  std::string body;
  Status s = HttpsPost(cfg, c.ep.device_endpoint, FormEncode(form), &http, &body);
  if (!s.ok()) return s;
  DeviceAuthorization da;
  if (!(s = ParseDeviceAuthorization(http, body, &da)).ok()) return s;
  std::printf("open      %s\ncode      %s\n", da.verification_uri.c_str(), da.user_code.c_str());
  std::printf("waiting   for the login to be approved (the code is valid for %lld s)\n",
              static_cast<long long>(da.expires_in));
  std::fflush(stdout);
  DevicePoll poll(da);
  int64_t waited = 0;
  for (;;) {
    if (waited >= o.timeout) return Status::TempFail("the login was not approved within --timeout");
    sleep(static_cast<unsigned>(poll.wait_seconds()));
    waited += poll.wait_seconds();
    std::vector<std::pair<std::string, std::string>> f = {
        {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"}, {"device_code", da.device_code},
        {"client_id", c.client_id}};
    if (!c.client_secret.empty()) f.emplace_back("client_secret", c.client_secret);
    s = HttpsPost(cfg, c.ep.token_endpoint, FormEncode(f), &http, &body);
    if (!s.ok()) return s;
    TokenResponse t;
    DevicePoll::Step step = poll.OnAnswer(http, body, &t);
    if (step == DevicePoll::Step::kFailed) return poll.status();
    if (step == DevicePoll::Step::kWait) continue;
    if (t.refresh_token.empty())
      return Status::NoPerm("the provider sent no refresh token: the scope needs offline_access");
    Report(t);
    OAuthToken tok = TokenFor(c, t, "refresh");
    return StoreToken(cfg, o.smarthost, &tok);
  }
}

// ---------------------------------------------------------------- client credentials

Status AppLogin(const Config& cfg, const OAuthOptions& o, Client c) {
  if (c.client_secret.empty())
    return Status::Usage("--client-credentials needs the client secret: --client-secret-file FILE (or - for "
                         "standard input)");
  if (o.scope.empty()) c.scope = c.ep.app_scope;
  if (c.scope.empty())
    return Status::Usage(c.ep.provider + " has no app-only (client credentials) login for SMTP; microsoft365 has");
  return ExchangeAndStore(cfg, o, c, {{"grant_type", "client_credentials"}, {"scope", c.scope}},
                          "client_credentials");
}

// ---------------------------------------------------------------- import

// The token file (and sasl-xoauth2's config) read and parsed, and the
// client prepared: all before the drop to the spool's owner, because
// these files are often root's or postfix's, mode 0600.
Status ReadImport(const Config& cfg, const OAuthOptions& o, ImportedToken* it, Client* c) {
  std::string text;
  Status s = ReadSecretSource(o.file, 1 << 20, &text);
  if (!s.ok()) return s;
  std::string name = o.file == "-" ? "standard input" : o.file;
  s = ParseTokenFile(o.format, text, name, it);
  text.assign(text.size(), '\0');
  if (!s.ok()) return s;
  if (!o.sasl_xoauth2_conf.empty()) {
    std::string conf;
    if (!(s = ReadSecretSource(o.sasl_xoauth2_conf, 1 << 16, &conf)).ok()) return s;
    if (!(s = MergeSaslXoauth2Conf(conf, o.sasl_xoauth2_conf, it)).ok()) return s;
  }
  OAuthOptions lo = o;
  if (lo.provider.empty()) lo.provider = !it->provider.empty() ? it->provider : cfg.provider;
  if (lo.tenant.empty()) lo.tenant = it->tenant;
  return PrepareClient(cfg, lo, c);
}

Status ImportToken(const Config& cfg, const OAuthOptions& o, ImportedToken& it, Client c) {
  std::string name = o.file == "-" ? "standard input" : o.file;
  const std::string provider = c.ep.provider;
  if (c.client_id.empty()) c.client_id = it.client_id;
  if (c.client_secret.empty()) c.client_secret = it.client_secret;
  if (c.client_id.empty())
    return Status::Usage(name + " names no client id: give --client-id, the one the token was made with "
                         "(a refresh token works only with its own client)");
  // The file's own endpoint is where its refresh token works, unless relay.conf names one.
  if (!it.token_endpoint.empty() && !(provider == cfg.provider && !cfg.oauth_token_endpoint.empty()))
    c.ep.token_endpoint = it.token_endpoint;
  if (!it.scope.empty()) c.scope = it.scope;
  for (const std::string& n : it.notes)
    if (n.find("--client-id") == std::string::npos || o.client_id.empty()) std::printf("note      %s\n", n.c_str());
  TokenResponse t;
  t.refresh_token = it.refresh_token;
  t.access_token = it.access_token;
  OAuthToken tok = TokenFor(c, t, "refresh");
  tok.access_expiry = it.access_token.empty() ? 0 : it.access_expiry;
  tok.last_refresh = 0;
  std::printf("imported  a %s token for %s%s\n", TokenFileFormatName(o.format), c.ep.provider.c_str(),
              tok.access_expiry ? "" : " (the access token is refreshed at first use)");
  it.refresh_token.assign(it.refresh_token.size(), '\0');
  it.access_token.assign(it.access_token.size(), '\0');
  return StoreToken(cfg, o.smarthost, &tok);
}

}  // namespace

int RunOAuthCommand(const Config& cfg, const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "login" && args[0] != "import"))
    return UsageError("relayctl oauth login|import");
  OAuthOptions o;
  Status s = ParseOptions(args, args[0] == "import", &o);
  if (!s.ok()) return Fail(s);
  Client c;
  if (o.flow == Flow::kImport) {
    ImportedToken it;
    s = ReadImport(cfg, o, &it, &c);
    if (s.ok()) s = DropToSpoolOwner(cfg);  // the store belongs to the spool's owner
    if (s.ok()) s = ImportToken(cfg, o, it, c);
    return s.ok() ? 0 : Fail(s);
  }
  // The secret file may be root's: read before the drop.
  if (!(s = PrepareClient(cfg, o, &c)).ok()) return Fail(s);
  if (c.client_id.empty()) return UsageError("--client-id is needed: the id of the OAuth2 client (app) registered "
                                             "with the provider");
  if (!(s = DropToSpoolOwner(cfg)).ok()) return Fail(s);
  switch (o.flow) {
    case Flow::kDevice: s = DeviceLogin(cfg, o, c); break;
    case Flow::kClientCredentials: s = AppLogin(cfg, o, c); break;
    default: s = CodeLogin(cfg, o, c); break;
  }
  c.client_secret.assign(c.client_secret.size(), '\0');
  return s.ok() ? 0 : Fail(s);
}

}  // namespace relay
