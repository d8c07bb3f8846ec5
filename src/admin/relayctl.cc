#include "relay/admin/relayctl.h"
#include "relay/admin/relayctl_admin.h"

#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "relay/message/aliases.h"
#include "relay/smtpd/password_file.h"
#include "relay/tls/tls_server.h"
#include "relay/base/config.h"
#include "relay/deliver/connection.h"
#include "relay/deliver/provider_limits.h"
#include "relay/base/credentials.h"
#include "relay/admin/import.h"
#include "relay/admin/oauth_command.h"
#include "relay/queue/privileges.h"
#include "relay/deliver/resolver.h"
#include "relay/deliver/smarthost_client.h"
#include "relay/deliver/token_store.h"
#include "relay/smtp/smtp_session.h"
#include "relay/queue/spool.h"
#include "relay/base/strings.h"

#ifndef RELAY_DEFAULT_CONFIG
#define RELAY_DEFAULT_CONFIG "/etc/relay.conf"
#endif

namespace relay {
namespace {

void Step(const std::string& what, const std::string& detail) {
  std::printf("%-9s %s\n", what.c_str(), detail.c_str());
  std::fflush(stdout);
}

int Failed(const std::string& what, const std::string& why, const std::string& fix) {
  Step(what, "FAILED: " + why);
  if (!fix.empty()) std::printf("%-9s fix: %s\n", "", fix.c_str());
  return 1;
}

// A plain diagnosis of what to change, from the error text.
std::string Advice(const std::string& err) {
  struct Rule {
    const char* match;
    const char* fix;
  };
  static const Rule rules[] = {
      {"certificate verification failed",
       "the server's certificate did not verify: set tls_ca_file to the CA that signed it, and "
       "make smarthost name the host the certificate is for"},
      {"fingerprint", "the certificate changed or the pin is wrong: check tls_fingerprint"},
      {"does not offer STARTTLS",
       "the server offers no STARTTLS: use its TLS port with 'smtps' (often 465), or tls = none "
       "only if it is on this machine or a trusted network"},
      {"authentication failed", "the server refused the login: check auth_user and the secret"},
      {"no acceptable AUTH", "set auth_mechanisms to one the server offers"},
      {"1024 or above", "move the tunnel to a port below 1024 (only root can bind those), or use TLS "
                        "to it (tls_fingerprint pins a tunnel's own certificate)"},
      {"no TLS", "credentials are only sent over TLS: enable tls, or auth_without_tls for loopback "
                 "on a port below 1024"},
      {"offers no AUTH", "the server wants no login here, or only on another port: check smarthost"},
      {"Connection refused", "nothing listens there: check the host and port in smarthost"},
      {"timed out", "no answer: a firewall, or the wrong port in smarthost"},
      {"resolve", "the name does not resolve: check smarthost and /etc/resolv.conf"},
      {"secret", "check auth_password_file (mode 600, owned by the relay user) or auth_password_command"},
  };
  for (const Rule& r : rules)
    if (err.find(r.match) != std::string::npos) return r.fix;
  return "";
}

// relayctl test's steps, from what the smarthost client sees.
class StepPrinter : public SmarthostClient::Observer {
 public:
  void Connected(const std::string& peer, int64_t ms) override {
    Step("connect", peer + " (" + std::to_string(ms) + " ms)");
  }
  void TlsUp(const std::string& info, bool at_connect) override { Step(at_connect ? "tls" : "starttls", info); }
  void Received(const Reply& r, Stage stage) override {
    if (stage == Stage::kGreeting) Step("greeting", r.Text());
    if (stage == Stage::kEhlo && r.positive()) {
      std::string caps;
      for (size_t i = 1; i < r.lines.size(); ++i) caps += (caps.empty() ? "" : ", ") + Printable(r.lines[i]);
      Step("ehlo", caps.empty() ? "(no extensions)" : caps);
    }
    if (stage == Stage::kAuth && r.code != 334) Step("auth", r.Text());
  }
  void Note(const std::string& line) override { Step("oauth", line); }
};

// The step of the bring-up that failed, why, and what to change.
int BringUpFailed(SmarthostClient::Step step, const std::string& why) {
  switch (step) {
    case SmarthostClient::Step::kConnect: return Failed("connect", why, Advice(why));
    case SmarthostClient::Step::kTlsSetup:
      return Failed("tls", why, "check tls_ca_file, tls_ca_dir and the client certificate");
    case SmarthostClient::Step::kTls: return Failed("tls", why, Advice(why));
    case SmarthostClient::Step::kSecret: return Failed("secret", why, Advice("secret"));
    case SmarthostClient::Step::kSession: break;
  }
  return Failed("session", why, Advice(why));
}

// MAIL and RCPT, then RSET and QUIT: nothing is sent.
int ProbeAddresses(SmarthostClient* client, const Smarthost& h, const std::string& sender, const std::string& rcpt) {
  for (const std::string& cmd : {"MAIL FROM:<" + sender + ">", "RCPT TO:<" + rcpt + ">", std::string("RSET"),
                                 std::string("QUIT")}) {
    Reply r;
    Status s = client->Command(cmd, &r);
    if (!s.ok()) return Failed(cmd.substr(0, 4), s.message(), Advice(s.message()));
    Step(cmd.substr(0, 4) == "MAIL" ? "mail" : cmd.substr(0, 4) == "RCPT" ? "rcpt" : ToLower(cmd), r.Text());
    if (!r.positive() && cmd.substr(0, 4) != "QUIT")
      return Failed(cmd.substr(0, 4), "the server refused " + cmd, r.permanent()
                        ? "the server will not take this address from this sender: check domain (the sender is " + sender + ")"
                        : "a temporary refusal: try again later");
  }
  std::printf("== %s works: mail to %s would be accepted\n", h.host.c_str(), rcpt.c_str());
  return 0;
}

// Brings up the connection to h as a delivery does (SmarthostClient),
// showing each step, then asks whether it would take mail to rcpt.
int TestSmarthost(const Config& cfg, SmarthostClient* client, const Smarthost& h, const std::string& sender,
                  const std::string& rcpt) {
  std::printf("== smarthost %s port %u, tls %s\n", h.host.c_str(), h.effective_port(), TlsModeName(h.tls));
  std::vector<SockAddr> addrs;
  Status s = Resolve(h.host, h.effective_port(), static_cast<int>(cfg.timeout_connect * 1000), &addrs);
  if (!s.ok()) return Failed("resolve", s.message(), Advice(s.message()));
  std::string list;
  for (const SockAddr& a : addrs) list += (list.empty() ? "" : ", ") + a.text;
  Step("resolve", h.host + " -> " + list);
  SmarthostClient::Step step;
  s = client->Open(h, &step);
  if (!s.ok()) return BringUpFailed(step, s.message());
  if (client->session()->authenticated()) Step("login", "ok as " + cfg.auth_user);
  else if (!cfg.auth_user.empty()) Step("login", "not done");
  else Step("login", "no credentials configured (auth_user)");
  return ProbeAddresses(client, h, sender, rcpt);
}

// listen_allow: the listener's certificate and key load, the users file
// parses, as relay-smtpd will find them at the first client.
template <typename Secret, typename Problem>
void CheckRemoteListener(const Config& cfg, Secret secret, Problem problem) {
  bool ok = secret(cfg.listen_tls_key_file, "listen_tls_key_file");
  std::unique_ptr<ServerTls> tls;
  Status s = ServerTls::Create(cfg, &tls);
  if (!s.ok()) {
    problem(s.message());
    ok = false;
  }
  std::string users = "no users file";
  if (!cfg.listen_auth_users.empty()) {
    // Loaded only once its owner and mode passed (secret() said why not).
    bool loaded = secret(cfg.listen_auth_users, "listen_auth_users");
    std::unique_ptr<PasswordFile> pw;
    if (loaded && !(s = PasswordFile::Load(Env::Default(), cfg.listen_auth_users, &pw)).ok()) {
      problem(s.message());
      loaded = false;
    }
    if (loaded) users = std::to_string(pw->size()) + " users";
    ok &= loaded;
  }
  if (ok)
    std::printf("listener beyond loopback: ok (%zu listen_allow networks, %s%s, %zu client fingerprints)\n",
                cfg.listen_allow.size(), users.c_str(), cfg.listen_client_ca.empty() ? "" : ", client CA",
                cfg.listen_client_fingerprints.size());
  for (const ListenAddress& la : cfg.listen)
    std::printf("listen   %s: %s\n", la.address.c_str(),
                la.tls == TlsMode::kSmtps ? "smtps (TLS at connect)" : "starttls");
  if (cfg.listen_auth_failure_limit == 0)
    std::printf("listen_auth_failure_limit: 0 (no limit across sessions)\n");
  else
    std::printf("listen_auth_failure_limit: a client is refused after %d wrong passwords in %llds\n",
                cfg.listen_auth_failure_limit, static_cast<long long>(cfg.listen_auth_failure_window));
}

using ProblemSink = std::function<void(const std::string&)>;

// auth_without_tls where relay will refuse it: say so now, not at the
// first deferral.
void WarnAuthWithoutTls(const Config& cfg) {
  for (const Smarthost& h : cfg.smarthosts) {
    if (!cfg.auth_without_tls || cfg.auth_user.empty() || h.tls != TlsMode::kNone || h.effective_port() < 1024)
      continue;
    std::printf("warning: auth_without_tls is refused for %s:%u: any local user can bind a port of 1024 or "
                "above first and would get the password; use a port below 1024 or TLS\n",
                h.host.c_str(), static_cast<unsigned>(h.effective_port()));
  }
}

void CheckAliases(const Config& cfg, const ProblemSink& problem) {
  std::vector<AliasProblem> ps;
  Aliases unused;
  Status as = LoadAliasesFile(Env::Default(), cfg.aliases, &unused, &ps);
  if (as.ok()) {
    for (const AliasProblem& p : ps) problem(cfg.aliases + ":" + std::to_string(p.line) + ": " + p.message);
    std::printf("aliases  %s: %s\n", cfg.aliases.c_str(), ps.empty() ? "ok" : "see problems");
  } else {
    problem("cannot read " + cfg.aliases);
  }
}

// The OAuth token store (issue 17): mode, owner, JSON, and for each
// smarthost an entry that can be refreshed. Never shows a token.
void CheckTokenStore(const Config& cfg, const ProblemSink& problem) {
  if (!cfg.oauth()) return;
  std::string path = TokenStorePath(cfg);
  uid_t owner = 0;
  Status s = SpoolOwner(cfg, &owner);
  TokenStore store;
  bool missing = false;
  if (s.ok()) s = LoadTokenStore(path, owner, &store, &missing);
  if (missing) return problem("oauth_token_file " + path + " does not exist: run relayctl oauth login");
  if (!s.ok()) return problem(s.message());
  int bad = 0;
  for (const Smarthost& h : cfg.smarthosts) {
    const OAuthToken* t = store.Find(HostKey(h));
    std::string fix = ": run relayctl oauth login";
    if (!t) ++bad, problem("the token store " + path + " has no entry for " + HostKey(h) + " or default" + fix);
    else if (t->client_id.empty()) ++bad, problem("the token store entry for " + HostKey(h) + " has no client_id" + fix);
    else if (t->kind == "refresh" && t->refresh_token.empty())
      ++bad, problem("the token store entry for " + HostKey(h) + " has no refresh token" + fix);
    else if (t->kind == "client_credentials" && t->client_secret.empty())
      ++bad, problem("the token store entry for " + HostKey(h) + " (client_credentials) has no client_secret" + fix);
    else if (cfg.oauth_token_endpoint.empty() && t->token_endpoint.rfind("https://", 0) != 0)
      ++bad, problem("no https token endpoint for " + HostKey(h) + ": set oauth_token_endpoint or provider");
  }
  store.Wipe();
  if (!bad) std::printf("oauth    %s: ok (mode 0600, owner uid %u)\n", path.c_str(), static_cast<unsigned>(owner));
}

// The secrets relayd reads (auth_password_file, and the listener's key
// and users file): their mode, and owned by the spool's owner, which
// relayd runs as.
void CheckSecrets(const Config& cfg, const ProblemSink& problem) {
  // Run by another user, the owner checks would compare against the wrong
  // uid (and suggest chowning the secret to whoever ran this): say whom
  // to run it as instead.
  struct stat spool_q;
  bool wrong_user = geteuid() != 0 && stat(SpoolPaths(cfg.spool_dir).queue().c_str(), &spool_q) == 0 &&
                    spool_q.st_uid != geteuid();
  if (wrong_user)
    problem("relayctl check runs as uid " + std::to_string(geteuid()) + ", but relayd runs as the spool owner (uid " +
            std::to_string(spool_q.st_uid) + "): run it as root or as that user to check the secrets");
  auto secret = [&](const std::string& path, const std::string& key) {
    if (wrong_user) return false;
    Status s = CheckSecretFile(path, key);
    struct stat sec, q;
    if (!s.ok()) {
      problem(s.message());
      return false;
    }
    if (stat(path.c_str(), &sec) == 0 && stat(SpoolPaths(cfg.spool_dir).queue().c_str(), &q) == 0 &&
        sec.st_uid != q.st_uid) {
      problem(key + " " + path + " belongs to uid " + std::to_string(sec.st_uid) +
              ", but relayd runs as the spool owner (uid " + std::to_string(q.st_uid) + "): run chown " +
              std::to_string(q.st_uid) + " " + path);
      return false;
    }
    return true;
  };
  if (!cfg.auth_password_file.empty()) {
    std::string path;
    Status ps = SecretFilePath(cfg, &path);
    if (!ps.ok())
      problem(ps.message());
    else if (secret(path, "auth_password_file"))
      std::printf("secret   %s: ok\n", path.c_str());
  }
  if (!cfg.listen_allow.empty()) CheckRemoteListener(cfg, secret, problem);
}

void CheckSpoolDirs(const Config& cfg, const ProblemSink& problem) {
  SpoolPaths paths(cfg.spool_dir);
  struct Dir {
    std::string path;
    mode_t mode;
  };
  for (const Dir& d : {Dir{paths.tmp(), 01730}, Dir{paths.queue(), 01770}, Dir{paths.state(), 0700},
                       Dir{paths.failed(), 0700}, Dir{paths.corrupt(), 0700}}) {
    struct stat st;
    if (stat(d.path.c_str(), &st) != 0) {
      problem(d.path + " is missing: run scripts/install-spool");
      continue;
    }
    mode_t m = st.st_mode & 07777;
    // A private instance (everything 0700 for one user) is fine too.
    if (m != d.mode && m != 0700) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s has mode %04o: run chmod %04o %s", d.path.c_str(), m, d.mode, d.path.c_str());
      problem(buf);
    }
  }
}

// Issue 17: the sender rewrite's and the quota replies' files parse, and
// a rewrite has an address to use.
void CheckProviderPolicy(const Config& cfg, const ProblemSink& problem) {
  SenderPolicy sender;
  std::vector<QuotaPattern> quota;
  LocalNames names = GetLocalNames(cfg);
  Status s = LoadProviderPolicy(cfg, names.domain, names.host.fqdn, &sender, &quota);
  if (!s.ok()) {
    problem(s.message());
    return;
  }
  if (cfg.sender_rewrite != SenderRewrite::kNone && !sender.active())
    problem("sender_rewrite is set but there is no address to use: set sender_address, sender_map, or an "
            "auth_user that is an address");
  if (cfg.sender_rewrite != SenderRewrite::kNone && sender.active())
    std::printf("sender   rewritten to %s%s: ok\n", sender.address.empty() ? "(sender_map only)" : sender.address.c_str(),
                sender.map.empty() ? "" : (" (" + std::to_string(sender.map.size()) + " in sender_map)").c_str());
}

int Check(const Config& cfg) {
  int problems = 0;
  ProblemSink problem = [&](const std::string& what) {
    std::printf("problem: %s\n", what.c_str());
    ++problems;
  };
  std::printf("config   %s: ok\n", cfg.path.empty() ? "(defaults: file missing)" : cfg.path.c_str());
  if (cfg.smarthosts.empty()) problem("no smarthost: set smarthost = host[:port] in relay.conf");
  WarnAuthWithoutTls(cfg);
  CheckAliases(cfg, problem);
  CheckSecrets(cfg, problem);
  CheckTokenStore(cfg, problem);
  CheckSpoolDirs(cfg, problem);
  CheckProviderPolicy(cfg, problem);
  std::printf("%d problem%s\n", problems, problems == 1 ? "" : "s");
  return problems ? EX_CONFIG : 0;
}

int Usage(FILE* to = stderr) {
  std::fprintf(to,
               "usage: relayctl [-C FILE] check\n"
               "       relayctl [-C FILE] test [-f SENDER] ADDRESS\n"
               "       relayctl [-C FILE] queue [--json]\n"
               "       relayctl [-C FILE] status [--json | --prometheus] [--max-age DURATION]\n"
               "       relayctl [-C FILE] flush\n"
               "       relayctl [-C FILE] show|retry|hold|release|delete|bounce QUEUEID\n"
               "       relayctl [-C FILE] import [--write] [--secret-file PATH] [--from PEER] FILE|DIR\n"
               "       relayctl [-C FILE] oauth login [--device|--no-browser|--client-credentials] [--provider P]\n"
               "                [--tenant T] [--client-id ID] [--client-secret-file FILE|-] [--smarthost NAME]\n"
               "       relayctl [-C FILE] oauth import --format sasl-xoauth2|mutt_oauth2|oama [--client-id ID]\n"
               "                [--client-secret-file FILE|-] [--sasl-xoauth2-conf FILE] [--smarthost NAME] FILE|-\n");
  return to == stderr ? EX_USAGE : 0;
}

// One line on stderr, the status's exit code.
int Fail(const Status& s) {
  std::fprintf(stderr, "relayctl: %s\n", s.message().c_str());
  return s.exit_code();
}

// relayctl test [-f SENDER] ADDRESS: each smarthost in the order a
// delivery tries them, until one would take the mail.
int RunTest(const Config& cfg, const std::string& config, const std::vector<std::string>& args) {
  std::string sender, rcpt;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "-f" && i + 1 < args.size()) sender = args[++i];
    else rcpt = args[i];
  }
  if (rcpt.empty()) return Usage();
  // A %d/ credential with no $CREDENTIALS_DIRECTORY is a configuration
  // error, as it is for relayd, not a smarthost that fails the test.
  std::string secret_path;
  Status s;
  if (cfg.auth_password_command.empty() && !cfg.auth_password_file.empty() &&
      !(s = SecretFilePath(cfg, &secret_path)).ok())
    return Fail(s);
  if (!(s = DropToSpoolOwner(cfg)).ok()) return Fail(s);
  LocalNames names = GetLocalNames(cfg);
  if (sender.empty()) sender = "postmaster@" + names.domain;
  if (cfg.smarthosts.empty()) return Failed("config", "no smarthost in " + config, "set smarthost = host[:port]");
  // The sender a delivery would use (sender_rewrite), so that the probe
  // meets what a delivery meets.
  SenderPolicy policy;
  std::vector<QuotaPattern> quota;
  if (!(s = LoadProviderPolicy(cfg, names.domain, names.host.fqdn, &policy, &quota)).ok()) return Fail(s);
  if (std::string as = RewrittenSender(policy, sender); !as.empty()) {
    Step("sender", sender + " sent as " + as + " (sender_rewrite)");
    sender = as;
  }
  StepPrinter printer;
  // With OAuth, the test always refreshes (issue 17): it shows that the
  // token endpoint and the refresh token work, not only a stored token.
  Config live = cfg;
  if (live.oauth()) live.oauth_refresh_ahead = INT64_MAX / 4;
  SmarthostClient client(live, cfg.helo_name.empty() ? names.host.fqdn : cfg.helo_name, nullptr, &printer);
  HostHealth fresh;  // nothing is known to be down: the configured order
  int rc = 1;
  for (const Smarthost* h : FailoverOrder(cfg.smarthosts, fresh))
    if ((rc = TestSmarthost(live, &client, *h, sender, rcpt)) == 0) break;
  return rc == 0 ? 0 : EX_UNAVAILABLE;
}

}  // namespace

int RunRelayctl(int argc, char** argv) {
  std::string config = RELAY_DEFAULT_CONFIG;
  bool config_named = false;  // -C given: the file must exist (import writes it)
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-C" && i + 1 < argc) config = argv[++i], config_named = true;
    else args.push_back(a);
  }
  if (args.empty() || args[0] == "--help" || args[0] == "-h") return Usage();
  // Before the configuration is loaded: import writes it.
  if (args[0] == "import")
    return RunImportCommand(Env::Default(), std::vector<std::string>(args.begin() + 1, args.end()), config);
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      Usage(stdout);
      std::printf("See relayctl(8) for what each command does.\n");
      return 0;
    }
  Config cfg;
  Status s = LoadConfig(Env::Default(), config, &cfg, config_named);
  if (!s.ok()) return Fail(s);
  if (args[0] == "check") return Check(cfg);
  if (IsAdminCommand(args[0])) {
    // Queue commands work on the spool as its owner (root becomes relay).
    if (!(s = DropToSpoolOwner(cfg)).ok()) return Fail(s);
    return AdminCommand(args[0], std::vector<std::string>(args.begin() + 1, args.end()), cfg);
  }
  if (args[0] == "test") return RunTest(cfg, config, args);
  if (args[0] == "oauth") return RunOAuthCommand(cfg, std::vector<std::string>(args.begin() + 1, args.end()));
  return Usage();
}

}  // namespace relay
