#include "relay/admin/import.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sysexits.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "relay/base/config.h"
#include "relay/base/env.h"
#include "testutil/import_util.h"
#include "testutil/temp_dir.h"

namespace relay {
namespace {

const std::string kData = std::string(RELAY_TESTDATA) + "/import";

struct Hop {
  std::string host;
  uint16_t port;
  TlsMode tls;
};

struct Case {
  const char* name;
  std::string path;  // a fixture directory or file under tests/data/import
  ImportKind kind;
  std::vector<Hop> hosts;
  std::string auth_user;
  std::string secret;            // "" : none extracted
  std::string password_command;  // auth_password_command, if any
  std::string domain;
  std::string helo_name;
  std::string tls_ca_file;
  std::vector<std::string> fingerprints;
  std::string aliases;
  std::vector<std::string> warnings;  // each must be part of some warning
};

std::vector<Case> Cases() {
  constexpr TlsMode kStart = TlsMode::kStartTls, kSmtps = TlsMode::kSmtps;
  return {
      {"ssmtp",
       "ssmtp",
       ImportKind::kSsmtp,
       {{"smtp.example.net", 587, kStart}},
       "web1@example.com",
       "s3cret-Pa55",
       "",
       "example.com",
       "web1.example.com",
       "/etc/ssl/example-ca.pem",
       {},
       "root: admin@example.com\n",
       {"FromLineOverride=YES: relay always keeps the From header",
        "revaliases:7: root -> admin@example.com via smtp.example.net: per-user sender rewriting is not supported",
        "revaliases:8: www-data -> webmaster@example.com: per-user sender rewriting",
        "ssmtp never checked the mailhub's certificate",
        "root=admin@example.com: ssmtp sent the mail of every user id below 1000"}},
      {"ssmtp file",
       "ssmtp/ssmtp.conf",
       ImportKind::kSsmtp,
       {{"smtp.example.net", 587, kStart}},
       "web1@example.com",
       "s3cret-Pa55",
       "",
       "example.com",
       "web1.example.com",
       "/etc/ssl/example-ca.pem",
       {},
       "root: admin@example.com\n",
       {"revaliases:8"}},
      {"nullmailer",
       "nullmailer",
       ImportKind::kNullmailer,
       {{"smtp.example.net", 587, kStart}, {"backup.example.org", 465, kSmtps}},
       "host17@example.net",
       "Tr1cky=pass",
       "",
       "example.net",
       "host17.example.net",
       "",
       {},
       "root: ops@example.net\n",
       {"remotes:6: --insecure: relay always verifies the smarthost's certificate",
        "adminaddr: nullmailer sent all local mail",
        "'*: ops@example.net'",
        "pausetime/maxpause: relay retries after retry_min"}},
      {"msmtp",
       "msmtp",
       ImportKind::kMsmtp,
       {{"smtp.example.com", 465, kSmtps}},
       "host42@example.com",
       "",
       "gpg --quiet --for-your-eyes-only --no-tty --decrypt /etc/msmtp/relay.gpg",
       "",
       "host42.example.com",
       "",
       {"sha256:3ed07fa249a21309ddc228d97ce7ca7765fdddde47ffe43bc24fdd82283b8ba6"},
       "",
       {"account personal: relay has one smarthost setup",
        "from host42@example.com: relay sends each message with its own sender",
        "set domain = example.com",
        "aliases /etc/aliases.msmtp: not read: import it separately",
        "logfile: relayd logs to syslog",
        "passwordeval: carried over as auth_password_command"}},
      {"dma",
       "dma",
       ImportKind::kDma,
       {{"mail.example.com", 587, kStart}},
       "noreply@example.com",
       "dma:pass#1",
       "",
       "example.com",
       "",
       "",
       {},
       "",
       {"INSECURE: dma allowed the login without TLS",
        "MASQUERADE noreply@example.com: relay does not rewrite every sender to the user noreply",
        "SPOOLDIR: relay has its own spool",
        "dma did not verify the smarthost's certificate"}},
      {"postfix",
       "postfix",
       ImportKind::kPostfix,
       {{"smtp.example.com", 587, kStart}},
       "app3@example.com",
       "pf-S3cret:with:colons",
       "",
       "example.com",
       "app3.example.com",
       "",
       {},
       "",
       {"smtp_tls_security_level = encrypt: Postfix did not verify the certificate",
        "smtp_generic_maps: relay does not rewrite addresses",
        "smtpd_banner", "biff", "which relay has no need for"}},
      {"postfix main.cf",
       "postfix/main.cf",
       ImportKind::kPostfix,
       {{"smtp.example.com", 587, kStart}},
       "app3@example.com",
       "pf-S3cret:with:colons",
       "",
       "example.com",
       "app3.example.com",
       "",
       {},
       "",
       {}},
  };
}

TEST(Import, Fixtures) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::string path = kData + "/" + c.path;
    ImportSource src;
    ASSERT_TRUE(ReadImportSource(Env::Default(), path, ImportKind::kAuto, &src).ok());
    EXPECT_EQ(DetectImportKind(src), c.kind);
    ImportResult r;
    Status s = ImportConfig(src, ImportOptions(), &r);
    ASSERT_TRUE(s.ok()) << s.message();
    SCOPED_TRACE("relay.conf:\n" + r.relay_conf + "warnings:\n" + Joined(r.warnings));

    Config cfg;
    Status ps = ParseConfig(r.relay_conf, "imported", &cfg);
    ASSERT_TRUE(ps.ok()) << ps.message();
    ASSERT_EQ(cfg.smarthosts.size(), c.hosts.size());
    for (size_t i = 0; i < c.hosts.size(); ++i) {
      EXPECT_EQ(cfg.smarthosts[i].host, c.hosts[i].host);
      EXPECT_EQ(cfg.smarthosts[i].effective_port(), c.hosts[i].port);
      EXPECT_STREQ(TlsModeName(cfg.smarthosts[i].tls), TlsModeName(c.hosts[i].tls));
    }
    EXPECT_EQ(cfg.auth_user, c.auth_user);
    EXPECT_EQ(r.secret, c.secret);
    EXPECT_EQ(cfg.auth_password_command, c.password_command);
    if (!c.secret.empty()) {
      EXPECT_EQ(cfg.auth_password_file, "/etc/relay/smarthost.secret");
    }
    EXPECT_EQ(cfg.domain, c.domain);
    EXPECT_EQ(cfg.helo_name, c.helo_name);
    EXPECT_EQ(cfg.tls_ca_file, c.tls_ca_file);
    EXPECT_EQ(cfg.tls_fingerprints, c.fingerprints);
    EXPECT_EQ(r.aliases, c.aliases);
    for (const std::string& w : c.warnings) EXPECT_TRUE(HasWarning(r, w)) << "missing warning: " << w;

    // The secret goes to its own file, never into relay.conf or a message.
    if (!c.secret.empty()) {
      EXPECT_EQ(r.relay_conf.find(c.secret), std::string::npos);
      for (const std::string& w : r.warnings) EXPECT_EQ(w.find(c.secret), std::string::npos) << w;
    }
    // The same input imports the same way every time.
    ImportResult again;
    ASSERT_TRUE(ImportConfig(src, ImportOptions(), &again).ok());
    EXPECT_EQ(again.relay_conf, r.relay_conf);
  }
}

TEST(Import, SecretFileIsNamedInTheConfig) {
  ImportSource src;
  ASSERT_TRUE(ReadImportSource(Env::Default(), kData + "/ssmtp", ImportKind::kAuto, &src).ok());
  ImportOptions opts;
  opts.secret_file = "/etc/relay/ssmtp.secret";
  ImportResult r;
  ASSERT_TRUE(ImportConfig(src, opts, &r).ok());
  Config cfg;
  ASSERT_TRUE(ParseConfig(r.relay_conf, "x", &cfg).ok());
  EXPECT_EQ(cfg.auth_password_file, "/etc/relay/ssmtp.secret");
}

TEST(Import, EmptyInputIsAnError) {
  ImportResult r;
  Status s = ImportConfig(ImportSource(), ImportOptions(), &r);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no files"), std::string::npos) << s.message();

  struct Empty {
    ImportKind kind;
    const char* file;
  };
  for (Empty e : {Empty{ImportKind::kSsmtp, "ssmtp.conf"}, Empty{ImportKind::kNullmailer, "remotes"},
                  Empty{ImportKind::kMsmtp, "msmtprc"}, Empty{ImportKind::kDma, "dma.conf"},
                  Empty{ImportKind::kPostfix, "main.cf"}}) {
    SCOPED_TRACE(e.file);
    for (const char* text : {"", "# only a comment\n\n   \n"}) {
      s = ImportText(e.kind, {{e.file, text}}, &r);
      EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
      EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();
    }
    // The main file missing altogether.
    s = ImportText(e.kind, {}, &r);
    EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
    EXPECT_NE(s.message().find(e.file), std::string::npos) << s.message();
  }
}

TEST(Import, NoRelayHostIsAClearError) {
  struct NoHost {
    ImportKind kind;
    const char* file;
    const char* text;
    const char* says;
  };
  for (NoHost n : {
           NoHost{ImportKind::kSsmtp, "ssmtp.conf", "root=postmaster\nhostname=a.example.com\n", "names no mailhub"},
           NoHost{ImportKind::kNullmailer, "remotes", "mx.example.com qmqp\n", "no SMTP relay host"},
           NoHost{ImportKind::kMsmtp, "msmtprc", "account default\nuser bob\n", "names no host"},
           NoHost{ImportKind::kMsmtp, "msmtprc", "account a\nhost a.example\naccount b\nhost b.example\n",
                  "no account 'default'"},
           NoHost{ImportKind::kDma, "dma.conf", "PORT 25\nMAILNAME /etc/mailname\n", "names no SMARTHOST"},
           NoHost{ImportKind::kPostfix, "main.cf", "myhostname = a.example.com\nrelayhost =\n", "has no relayhost"},
           NoHost{ImportKind::kPostfix, "main.cf", "relayhost = $relay_server\n", "relay_server"},
       }) {
    SCOPED_TRACE(n.text);
    ImportResult r;
    Status s = ImportText(n.kind, {{n.file, n.text}}, &r);
    EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
    EXPECT_NE(s.message().find(n.says), std::string::npos) << s.message();
  }
}

// An Env in which some paths cannot be read.
class DenyEnv : public EnvWrapper {
 public:
  DenyEnv() : EnvWrapper(Env::Default()) {}
  std::set<std::string> denied;
  Status ReadFile(const std::string& path, std::string* data, bool* missing) override {
    if (denied.count(path)) {
      if (missing) *missing = false;
      return Status::FromErrno(EACCES, "open " + path);
    }
    return EnvWrapper::ReadFile(path, data, missing);
  }
};

TEST(Import, UnreadableInput) {
  DenyEnv env;
  env.denied.insert(kData + "/ssmtp/ssmtp.conf");
  ImportSource src;
  Status s = ReadImportSource(&env, kData + "/ssmtp", ImportKind::kAuto, &src);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Permission denied"), std::string::npos) << s.message();
  s = ReadImportSource(&env, kData + "/ssmtp/ssmtp.conf", ImportKind::kAuto, &src);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Permission denied"), std::string::npos) << s.message();

  s = ReadImportSource(Env::Default(), kData + "/no-such-dir", ImportKind::kAuto, &src);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();

  // A directory of something else.
  s = ReadImportSource(Env::Default(), kData, ImportKind::kAuto, &src);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--from"), std::string::npos) << s.message();

  // The password table unreadable (not root): imported without the login's
  // password, and said so.
  env.denied = {kData + "/postfix/sasl_passwd"};
  ASSERT_TRUE(ReadImportSource(&env, kData + "/postfix", ImportKind::kAuto, &src).ok());
  ImportResult r;
  ASSERT_TRUE(ImportConfig(src, ImportOptions(), &r).ok());
  EXPECT_TRUE(r.secret.empty());
  EXPECT_TRUE(HasWarning(r, "sasl_passwd: could not be read")) << Joined(r.warnings);
  Config cfg;
  ASSERT_TRUE(ParseConfig(r.relay_conf, "x", &cfg).ok());
  EXPECT_EQ(cfg.smarthosts.size(), 1u);
}

TEST(Import, KindFromContentOrForced) {
  testing::TempDir dir;
  std::string path = dir.path() + "/old-mailer.cfg";
  std::ofstream(path) << "# copied from another host\nmailhub=relay.example.org\n";
  ImportResult r;
  ASSERT_TRUE(ImportFile(path, &r).ok());
  Config cfg;
  ASSERT_TRUE(ParseConfig(r.relay_conf, "x", &cfg).ok());
  ASSERT_EQ(cfg.smarthosts.size(), 1u);
  EXPECT_EQ(cfg.smarthosts[0].host, "relay.example.org");
  EXPECT_EQ(cfg.smarthosts[0].effective_port(), 25);  // ssmtp's default
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kNone);   // as ssmtp sent it
  EXPECT_TRUE(HasWarning(r, "without TLS")) << Joined(r.warnings);

  std::string odd = dir.path() + "/settings";
  std::ofstream(odd) << "# no hint in here\n";
  EXPECT_FALSE(ImportFile(odd, &r).ok());
  std::ofstream(odd) << "host smtp.example.com\nport 587\ntls on\nuser u\npassword p\n";
  ASSERT_TRUE(ImportFile(odd, &r, ImportKind::kMsmtp).ok());
  ASSERT_TRUE(ParseConfig(r.relay_conf, "x", &(cfg = Config())).ok());
  EXPECT_EQ(cfg.smarthosts.back().host, "smtp.example.com");
  EXPECT_EQ(r.secret, "p");

  ImportKind k;
  EXPECT_TRUE(ParseImportKind("Postfix", &k));
  EXPECT_EQ(k, ImportKind::kPostfix);
  EXPECT_FALSE(ParseImportKind("exim", &k));
}

TEST(Import, SsmtpDetails) {
  ImportResult r;
  Config cfg;
  // UseTLS alone is TLS from the first byte; the port stays ssmtp's.
  ASSERT_TRUE(ImportText(ImportKind::kSsmtp,
                         {{"ssmtp.conf", "mailhub=smtp.example.com\nUseTLS=YES\nAuthUser=u\nAuthPass=p\n"}},
                         &r, &cfg).ok());
  ASSERT_EQ(cfg.smarthosts.size(), 1u);
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kSmtps);
  EXPECT_EQ(cfg.smarthosts[0].effective_port(), 25);
  // hostname qualifies addresses when there is no rewriteDomain.
  ASSERT_TRUE(ImportText(ImportKind::kSsmtp, {{"ssmtp.conf", "mailhub=smtp.example.com:465\nhostname=h.example.org\n"
                                                             "FromLineOverride=NO\nFoo=bar\n"}},
                         &r, &(cfg = Config())).ok());
  EXPECT_EQ(cfg.domain, "h.example.org");
  EXPECT_EQ(cfg.helo_name, "h.example.org");
  EXPECT_TRUE(HasWarning(r, "FromLineOverride=NO")) << Joined(r.warnings);
  EXPECT_TRUE(HasWarning(r, "Foo: not an ssmtp setting")) << Joined(r.warnings);
  // A password sent without TLS: relay adds STARTTLS rather than never log in.
  ASSERT_TRUE(ImportText(ImportKind::kSsmtp, {{"ssmtp.conf", "mailhub=mail.example.com\nAuthUser=u\nAuthPass=p\n"}},
                         &r, &(cfg = Config())).ok());
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kStartTls);
  EXPECT_EQ(cfg.smarthosts[0].effective_port(), 25);
  EXPECT_TRUE(HasWarning(r, "without TLS; relay never sends it unencrypted")) << Joined(r.warnings);
  // ... except to a smarthost on this machine.
  ASSERT_TRUE(ImportText(ImportKind::kSsmtp, {{"ssmtp.conf", "mailhub=127.0.0.1:2525\nAuthUser=u\nAuthPass=p\n"}},
                         &r, &(cfg = Config())).ok());
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kNone);
  EXPECT_TRUE(cfg.auth_without_tls);
  // A client certificate: ssmtp reads its key from the same file.
  ASSERT_TRUE(ImportText(ImportKind::kSsmtp, {{"ssmtp.conf", "mailhub=smtp.example.com:465\nUseTLS=YES\n"
                                                             "UseTLSCert=YES\nTLSCert=/etc/ssl/private/host.pem\n"}},
                         &r, &(cfg = Config())).ok());
  EXPECT_EQ(cfg.tls_cert_file, "/etc/ssl/private/host.pem");
  EXPECT_EQ(cfg.tls_key_file, "/etc/ssl/private/host.pem");
  // A bad host is refused, with the reason.
  Status s = ImportText(ImportKind::kSsmtp, {{"ssmtp.conf", "mailhub=smtp!example.com\n"}}, &r);
  EXPECT_EQ(s.kind(), Status::Kind::kDataErr);
  s = ImportText(ImportKind::kSsmtp, {{"ssmtp.conf", "mailhub=smtp.example.com:smtp\n"}}, &r);
  EXPECT_NE(s.message().find("not a port number"), std::string::npos) << s.message();
}

TEST(Import, NullmailerDetails) {
  ImportResult r;
  Config cfg;
  ASSERT_TRUE(ImportText(ImportKind::kNullmailer,
                         {{"remotes", "a.example.com smtp --port=2525\nb.example.com qmqp\n"
                                      "c.example.com --starttls --user=x --pass=y --x509cafile=/etc/ca.pem\n"},
                          {"defaulthost", "mail\n"},
                          {"defaultdomain", "example.com\n"},
                          {"queuelifetime", "172800\n"}},
                         &r, &cfg).ok());
  ASSERT_EQ(cfg.smarthosts.size(), 2u);
  EXPECT_EQ(cfg.smarthosts[0].host, "a.example.com");
  EXPECT_EQ(cfg.smarthosts[0].effective_port(), 2525);
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kStartTls);  // the login needs TLS
  EXPECT_EQ(cfg.smarthosts[1].host, "c.example.com");
  EXPECT_EQ(cfg.smarthosts[1].effective_port(), 25);
  EXPECT_EQ(cfg.auth_user, "x");
  EXPECT_EQ(r.secret, "y");
  EXPECT_EQ(cfg.tls_ca_file, "/etc/ca.pem");
  EXPECT_EQ(cfg.domain, "mail.example.com");
  EXPECT_EQ(cfg.queue_lifetime, 172800);
  EXPECT_TRUE(HasWarning(r, "remotes:2: b.example.com qmqp")) << Joined(r.warnings);
  EXPECT_TRUE(HasWarning(r, "remotes:1: a.example.com: no --user")) << Joined(r.warnings);
}

TEST(Import, MsmtpDetails) {
  ImportResult r;
  Config cfg;
  ASSERT_TRUE(ImportText(ImportKind::kMsmtp,
                         {{"msmtprc", "account default\nhost smtp.example.com\ntls on\ntls_starttls on\n"
                                      "auth scram-sha-256\nuser bob\npassword \"p w \\\"q\\\"\"\n"
                                      "tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\n"
                                      "maildomain example.com\n"}},
                         &r, &cfg).ok());
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kStartTls);
  EXPECT_EQ(cfg.smarthosts[0].effective_port(), 25);  // msmtp's default
  EXPECT_EQ(r.secret, "p w \"q\"");
  ASSERT_EQ(cfg.auth_mechanisms.size(), 1u);
  EXPECT_EQ(cfg.auth_mechanisms[0], "SCRAM-SHA-256");
  EXPECT_TRUE(cfg.tls_fingerprints.empty());
  EXPECT_TRUE(HasWarning(r, "a SHA-1 fingerprint; relay pins SHA-256 only")) << Joined(r.warnings);
  EXPECT_EQ(cfg.domain, "example.com");
  // auth off: no login, whatever the user line says.
  ASSERT_TRUE(ImportText(ImportKind::kMsmtp,
                         {{"msmtprc", "account default\nhost 127.0.0.1\nport 25\nauth off\nuser bob\n"}}, &r,
                         &(cfg = Config())).ok());
  EXPECT_EQ(cfg.auth_user, "");
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kNone);
  EXPECT_TRUE(HasWarning(r, "auth is off")) << Joined(r.warnings);
}

TEST(Import, DmaDetails) {
  ImportResult r;
  Config cfg;
  ASSERT_TRUE(ImportText(ImportKind::kDma,
                         {{"dma.conf", "SMARTHOST smtp.example.com\nSECURETRANSFER\nAUTHPATH /etc/dma/auth.conf\n"
                                       "MASQUERADE example.org\nMAILNAME host.example.org\nFINGERPRINT "
                                       "3ed07fa249a21309ddc228d97ce7ca7765fdddde47ffe43bc24fdd82283b8ba6\n"},
                          {"auth.conf", "u@example.org|SMTP.example.com:pw\n"}},
                         &r, &cfg).ok());
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kSmtps);
  EXPECT_EQ(cfg.smarthosts[0].effective_port(), 25);  // dma's PORT default
  EXPECT_EQ(cfg.auth_user, "u@example.org");
  EXPECT_EQ(r.secret, "pw");
  EXPECT_EQ(cfg.domain, "example.org");
  EXPECT_EQ(cfg.helo_name, "host.example.org");
  ASSERT_EQ(cfg.tls_fingerprints.size(), 1u);
  EXPECT_FALSE(HasWarning(r, "did not verify")) << Joined(r.warnings);
  // AUTHPATH names a file that is not there.
  ASSERT_TRUE(ImportText(ImportKind::kDma, {{"dma.conf", "SMARTHOST smtp.example.com\nAUTHPATH /etc/dma/auth.conf\n"}},
                         &r).ok());
  EXPECT_TRUE(HasWarning(r, "not found; no login imported")) << Joined(r.warnings);
}

TEST(Import, PostfixDetails) {
  ImportResult r;
  Config cfg;
  ASSERT_TRUE(ImportText(ImportKind::kPostfix,
                         {{"main.cf", "myorigin = /etc/mailname\nmyhostname = h.example.com\n"
                                      "relayhost = smtp.example.com:submission\n"
                                      "smtp_tls_security_level = may\nsmtp_tls_CAfile = /etc/postfix/ca.pem\n"
                                      "smtp_tls_wrappermode = no\nsmtp_sasl_auth_enable = yes\n"
                                      "smtp_sasl_password_maps = texthash:$config_directory/sasl_passwd\n"
                                      "smtp_sasl_mechanism_filter = plain,\n  login\n"
                                      "minimal_backoff_time = 2h\ndelay_warning_time = 4h\n"},
                          {"sasl_passwd", "smtp.example.com   u:p\n"}},
                         &r, &cfg).ok());
  ASSERT_EQ(cfg.smarthosts.size(), 1u);
  EXPECT_EQ(cfg.smarthosts[0].effective_port(), 587);
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kStartTls);
  EXPECT_EQ(cfg.domain, "");  // relay reads /etc/mailname itself
  EXPECT_EQ(cfg.helo_name, "h.example.com");
  EXPECT_EQ(cfg.tls_ca_file, "/etc/postfix/ca.pem");
  EXPECT_EQ(cfg.auth_user, "u");
  EXPECT_EQ(r.secret, "p");
  EXPECT_EQ((std::vector<std::string>{"PLAIN", "LOGIN"}), cfg.auth_mechanisms);
  EXPECT_EQ(cfg.retry_min, 7200);
  EXPECT_EQ(cfg.retry_max, 7200);  // raised: relay refuses retry_max < retry_min
  EXPECT_EQ(cfg.delay_warning_time, 4 * 3600);  // relay has it too now (issue 18)
  EXPECT_TRUE(HasWarning(r, "without brackets Postfix looked up the MX records")) << Joined(r.warnings);
  EXPECT_TRUE(HasWarning(r, "smtp_tls_security_level = may: relay requires TLS")) << Joined(r.warnings);
  // Wrapper mode, IPv6, a fallback relay, and no TLS at all.
  ASSERT_TRUE(ImportText(ImportKind::kPostfix,
                         {{"main.cf", "relayhost = [ipv6:2001:db8::25]:465\nsmtp_tls_wrappermode = yes\n"
                                      "smtp_tls_security_level = encrypt\nsmtp_fallback_relay = [backup.example.com]\n"}},
                         &r, &(cfg = Config())).ok());
  ASSERT_EQ(cfg.smarthosts.size(), 2u);
  EXPECT_EQ(cfg.smarthosts[0].host, "2001:db8::25");
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kSmtps);
  EXPECT_EQ(cfg.smarthosts[1].host, "backup.example.com");
  EXPECT_EQ(cfg.smarthosts[1].effective_port(), 25);
  ASSERT_TRUE(ImportText(ImportKind::kPostfix, {{"main.cf", "relayhost = [10.0.0.1]\n"}}, &r, &(cfg = Config())).ok());
  EXPECT_EQ(cfg.smarthosts[0].tls, TlsMode::kNone);
  EXPECT_TRUE(HasWarning(r, "without TLS, and still will")) << Joined(r.warnings);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Import, CommandPrintsWithoutWriting) {
  testing::TempDir dir;
  std::string conf = dir.path() + "/relay.conf";
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int rc = RunImportCommand(Env::Default(), {kData + "/dma"}, conf);
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 0);
  Config cfg;
  ASSERT_TRUE(ParseConfig(out, "stdout", &cfg).ok()) << out;
  EXPECT_EQ(cfg.smarthosts.size(), 1u);
  EXPECT_NE(err.find("relayctl: warning: dma.conf:"), std::string::npos) << err;
  EXPECT_NE(err.find("would go to /etc/relay/smarthost.secret"), std::string::npos) << err;
  EXPECT_EQ(out.find("dma:pass#1"), std::string::npos);
  EXPECT_EQ(err.find("dma:pass#1"), std::string::npos);
  struct stat st;
  EXPECT_NE(::stat(conf.c_str(), &st), 0);  // nothing written

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunImportCommand(Env::Default(), {"--bogus", "x"}, conf), EX_USAGE);
  EXPECT_EQ(RunImportCommand(Env::Default(), {}, conf), EX_USAGE);
  EXPECT_EQ(RunImportCommand(Env::Default(), {"--from", "exim", kData + "/dma"}, conf), EX_USAGE);
  EXPECT_EQ(RunImportCommand(Env::Default(), {kData + "/missing"}, conf), EX_NOINPUT);
  ::testing::internal::GetCapturedStderr();
}

TEST(Import, CommandWrites) {
  testing::TempDir dir;
  std::string conf = dir.path() + "/relay.conf";
  std::string secret = dir.path() + "/relay/smarthost.secret";
  std::vector<std::string> args = {"--write", "--secret-file", secret, kData + "/postfix"};
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int rc = RunImportCommand(Env::Default(), args, conf);
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(rc, 0) << err;
  EXPECT_NE(out.find("wrote " + conf), std::string::npos) << out;
  EXPECT_NE(out.find("wrote " + secret), std::string::npos) << out;
  EXPECT_EQ(out.find("pf-S3cret"), std::string::npos);
  EXPECT_EQ(err.find("pf-S3cret"), std::string::npos);
  EXPECT_EQ(ReadAll(secret), "pf-S3cret:with:colons\n");
  struct stat st;
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(conf.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  Config cfg;
  ASSERT_TRUE(LoadConfig(Env::Default(), conf, &cfg).ok());
  EXPECT_EQ(cfg.auth_password_file, secret);
  EXPECT_EQ(cfg.smarthosts.at(0).host, "smtp.example.com");

  // Again: the files hold the same bytes, which is fine.
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  rc = RunImportCommand(Env::Default(), args, conf);
  out = ::testing::internal::GetCapturedStdout();
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("unchanged"), std::string::npos) << out;

  // A different relay.conf is never replaced, and nothing is written.
  std::ofstream(conf, std::ios::app) << "max_connections = 2\n";
  std::string before = ReadAll(conf);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  rc = RunImportCommand(Env::Default(), args, conf);
  ::testing::internal::GetCapturedStdout();
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, EX_CANTCREAT);
  EXPECT_NE(err.find("exists and differs: not overwritten"), std::string::npos) << err;
  EXPECT_EQ(ReadAll(conf), before);
  EXPECT_EQ(dir.List("."), (std::vector<std::string>{"relay", "relay.conf"}));
}

}  // namespace
}  // namespace relay
