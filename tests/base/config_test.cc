#include "relay/base/config.h"

#include <gtest/gtest.h>

#include <sysexits.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "relay/base/env.h"
#include "testutil/temp_dir.h"

namespace relay {
namespace {

struct Host {
  std::string host;
  uint16_t port;
  TlsMode tls;
  bool tls_set;
  uint16_t effective_port;
};

void ExpectHosts(const std::vector<Smarthost>& got, const std::vector<Host>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("smarthost #" + std::to_string(i));
    EXPECT_EQ(got[i].host, want[i].host);
    EXPECT_EQ(got[i].port, want[i].port);
    EXPECT_STREQ(TlsModeName(got[i].tls), TlsModeName(want[i].tls));
    EXPECT_EQ(got[i].tls_set, want[i].tls_set);
    EXPECT_EQ(got[i].effective_port(), want[i].effective_port);
  }
}

constexpr TlsMode kStart = TlsMode::kStartTls;
constexpr TlsMode kSmtps = TlsMode::kSmtps;
constexpr TlsMode kNone = TlsMode::kNone;

TEST(Config, Defaults) {
  Config c;
  EXPECT_EQ(c.path, "");
  EXPECT_EQ(c.spool_dir, "/var/spool/relay");
  EXPECT_EQ(c.domain, "");
  EXPECT_EQ(c.aliases, "/etc/aliases");
  EXPECT_TRUE(c.smarthosts.empty());
  EXPECT_EQ(c.tls, TlsMode::kStartTls);
  EXPECT_EQ(c.message_size_limit, 0u);

  // Empty text, blank lines and comments change nothing.
  for (const char* text : {"", "\n\n", "# comment\n", "   # indented comment\n\t\n", "\r\n#x\r\n"}) {
    SCOPED_TRACE(text);
    Config p;
    ASSERT_TRUE(ParseConfig(text, "relay.conf", &p).ok());
    EXPECT_EQ(p.spool_dir, "/var/spool/relay");
    EXPECT_EQ(p.domain, "");
    EXPECT_EQ(p.aliases, "/etc/aliases");
    EXPECT_TRUE(p.smarthosts.empty());
    EXPECT_EQ(p.tls, TlsMode::kStartTls);
    EXPECT_EQ(p.message_size_limit, 0u);
    EXPECT_EQ(p.path, "");
  }
}

TEST(Config, ParsesEveryKey) {
  const char* text =
      "# relay.conf\n"
      "\n"
      "spool_dir = /srv/spool\n"
      "domain = example.com\n"
      "aliases=/etc/mail/aliases\n"
      "  smarthost\t=\tmail.example.com:2525 smtps , [2001:db8::1]:25 none, backup.example.net  \n"
      "smarthost = 192.0.2.7\n"
      "tls = none\n"
      "message_size_limit = 10M\n";
  Config c;
  Status s = ParseConfig(text, "relay.conf", &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.spool_dir, "/srv/spool");
  EXPECT_EQ(c.domain, "example.com");
  EXPECT_EQ(c.aliases, "/etc/mail/aliases");
  EXPECT_EQ(c.tls, TlsMode::kNone);
  EXPECT_EQ(c.message_size_limit, 10u * 1024 * 1024);
  // The default TLS mode, given after the hosts, still applies to the hosts
  // that name none.
  ExpectHosts(c.smarthosts, {
                                {"mail.example.com", 2525, kSmtps, true, 2525},
                                {"2001:db8::1", 25, kNone, true, 25},
                                {"backup.example.net", 0, kNone, false, 25},
                                {"192.0.2.7", 0, kNone, false, 25},
                            });
}

TEST(Config, CrlfLines) {
  Config c;
  Status s = ParseConfig("domain = example.org\r\nsmarthost = mx.example.org:25 none\r\n# c\r\n\r\n",
                         "relay.conf", &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.domain, "example.org");
  ExpectHosts(c.smarthosts, {{"mx.example.org", 25, kNone, true, 25}});
}

TEST(Config, LastValueWinsExceptSmarthostWhichAppends) {
  Config c;
  Status s = ParseConfig(
      "domain = a.example\n"
      "domain = b.example\n"
      "smarthost = one.example\n"
      "smarthost = two.example:26, three.example smtps\n"
      "smarthost = one.example\n",
      "relay.conf", &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.domain, "b.example");
  ExpectHosts(c.smarthosts, {
                                {"one.example", 0, kStart, false, 587},
                                {"two.example", 26, kStart, false, 26},
                                {"three.example", 0, kSmtps, true, 465},
                                {"one.example", 0, kStart, false, 587},
                            });
}

struct SizeCase {
  const char* value;
  uint64_t bytes;
};

TEST(Config, MessageSizeLimit) {
  const SizeCase cases[] = {
      {"0", 0},
      {"1", 1},
      {"1000", 1000},
      {"10240000", 10240000},
      {"1k", 1024},
      {"1K", 1024},
      {"50k", 50 * 1024},
      {"1m", 1024 * 1024},
      {"25M", 25ull * 1024 * 1024},
      {"1g", 1024ull * 1024 * 1024},
      {"4G", 4ull * 1024 * 1024 * 1024},
      {"007", 7},
      {"18446744073709551615", UINT64_MAX},
      {"17179869183G", 17179869183ull * 1024 * 1024 * 1024},  // the largest that fits
  };
  for (const SizeCase& c : cases) {
    SCOPED_TRACE(c.value);
    Config cfg;
    Status s = ParseConfig(std::string("message_size_limit = ") + c.value + "\n", "relay.conf", &cfg);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(cfg.message_size_limit, c.bytes);
  }
}

struct SmarthostCase {
  const char* value;
  std::vector<Host> hosts;
};

TEST(Config, SmarthostForms) {
  const SmarthostCase cases[] = {
      {"mail.example.com", {{"mail.example.com", 0, kStart, false, 587}}},
      {"mail.example.com:25", {{"mail.example.com", 25, kStart, false, 25}}},
      {"mail.example.com:465 smtps", {{"mail.example.com", 465, kSmtps, true, 465}}},
      {"mail.example.com smtps", {{"mail.example.com", 0, kSmtps, true, 465}}},
      {"mail.example.com none", {{"mail.example.com", 0, kNone, true, 25}}},
      {"mail.example.com starttls", {{"mail.example.com", 0, kStart, true, 587}}},
      {"mail.example.com\tsmtps", {{"mail.example.com", 0, kSmtps, true, 465}}},
      {"mail.example.com  \t none", {{"mail.example.com", 0, kNone, true, 25}}},
      {"mail.example.com:1", {{"mail.example.com", 1, kStart, false, 1}}},
      {"mail.example.com:65535", {{"mail.example.com", 65535, kStart, false, 65535}}},
      {"MX_1.Example-Host.com", {{"MX_1.Example-Host.com", 0, kStart, false, 587}}},
      {"localhost", {{"localhost", 0, kStart, false, 587}}},
      {"192.0.2.1:587", {{"192.0.2.1", 587, kStart, false, 587}}},
      // IPv6 literals in brackets.
      {"[::1]", {{"::1", 0, kStart, false, 587}}},
      {"[::1]:25", {{"::1", 25, kStart, false, 25}}},
      {"[2001:DB8::25]:2525 none", {{"2001:DB8::25", 2525, kNone, true, 2525}}},
      {"[::ffff:192.0.2.1]:25", {{"::ffff:192.0.2.1", 25, kStart, false, 25}}},
      // Lists.
      {"a.example, b.example:26 smtps,[::1]:27 none",
       {{"a.example", 0, kStart, false, 587},
        {"b.example", 26, kSmtps, true, 26},
        {"::1", 27, kNone, true, 27}}},
  };
  for (const SmarthostCase& c : cases) {
    SCOPED_TRACE(c.value);
    std::vector<Smarthost> hosts;
    Status s = ParseSmarthosts(c.value, &hosts);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectHosts(hosts, c.hosts);
  }
}

TEST(Config, PerHostTlsOverridesDefault) {
  Config c;
  ASSERT_TRUE(ParseConfig("tls = smtps\nsmarthost = a.example, b.example none, c.example starttls\n",
                          "relay.conf", &c)
                  .ok());
  EXPECT_EQ(c.tls, TlsMode::kSmtps);
  ExpectHosts(c.smarthosts, {
                                {"a.example", 0, kSmtps, false, 465},
                                {"b.example", 0, kNone, true, 25},
                                {"c.example", 0, kStart, true, 587},
                            });
}

struct ErrorCase {
  const char* text;
  const char* message;
};

TEST(Config, Errors) {
  const ErrorCase errors[] = {
      // Line syntax.
      {"spool_dir /var/spool/relay\n", "relay.conf:1: expected 'key = value'"},
      {"# ok\n\ndomain\n", "relay.conf:3: expected 'key = value'"},
      {"= /x\n", "relay.conf:1: missing key before '='"},
      {"  \t= /x\n", "relay.conf:1: missing key before '='"},
      {"colour = blue\n", "relay.conf:1: unknown key 'colour'"},
      {"Smarthost = a.example\n", "relay.conf:1: unknown key 'Smarthost'"},
      {"spool dir = /x\n", "relay.conf:1: unknown key 'spool dir'"},
      {"colour =\n", "relay.conf:1: unknown key 'colour'"},
      {"domain =\n", "relay.conf:1: empty value for 'domain'"},
      {"domain =   \t\n", "relay.conf:1: empty value for 'domain'"},
      {"smarthost = \r\n", "relay.conf:1: empty value for 'smarthost'"},
      {"domain = exa\x01mple.com\n", "relay.conf:1: control character in value of 'domain'"},
      {"domain = exa\rmple.com\n", "relay.conf:1: control character in value of 'domain'"},
      // Line numbers count every line, CRLF ones included.
      {"# one\r\n\r\ndomain = ok.example\r\nbogus\r\n", "relay.conf:4: expected 'key = value'"},
      // Values.
      {"spool_dir = var/spool/relay\n", "relay.conf:1: spool_dir: spool_dir must be an absolute path"},
      {"aliases = aliases\n", "relay.conf:1: aliases: aliases must be an absolute path"},
      {"domain = -example.com\n", "relay.conf:1: domain: bad domain '-example.com'"},
      {"domain = .example.com\n", "relay.conf:1: domain: bad domain '.example.com'"},
      {"domain = exa mple.com\n", "relay.conf:1: domain: bad domain 'exa mple.com'"},
      {"domain = ex@mple.com\n", "relay.conf:1: domain: bad domain 'ex@mple.com'"},
      {"tls = yes\n", "relay.conf:1: tls: unknown TLS mode 'yes' (use starttls, smtps or none)"},
      {"tls = STARTTLS\n", "relay.conf:1: tls: unknown TLS mode 'STARTTLS' (use starttls, smtps or none)"},
      {"message_size_limit = ten\n",
       "relay.conf:1: message_size_limit: bad size 'ten' (a number of bytes, or with K, M or G)"},
      {"message_size_limit = 10MB\n",
       "relay.conf:1: message_size_limit: bad size '10MB' (a number of bytes, or with K, M or G)"},
      {"message_size_limit = M\n",
       "relay.conf:1: message_size_limit: bad size 'M' (a number of bytes, or with K, M or G)"},
      {"message_size_limit = -1\n",
       "relay.conf:1: message_size_limit: bad size '-1' (a number of bytes, or with K, M or G)"},
      {"message_size_limit = 1.5M\n",
       "relay.conf:1: message_size_limit: bad size '1.5M' (a number of bytes, or with K, M or G)"},
      {"message_size_limit = 10 M\n",
       "relay.conf:1: message_size_limit: bad size '10 M' (a number of bytes, or with K, M or G)"},
      {"message_size_limit = 18446744073709551616\n",
       "relay.conf:1: message_size_limit: bad size '18446744073709551616' (a number of bytes, or with K, "
       "M or G)"},
      // Smarthosts.
      {"smarthost = a.example,,b.example\n", "relay.conf:1: smarthost: empty item in smarthost list"},
      {"smarthost = a.example,\n", "relay.conf:1: smarthost: empty item in smarthost list"},
      {"smarthost = ,a.example\n", "relay.conf:1: smarthost: empty item in smarthost list"},
      {"smarthost = a.example tls\n",
       "relay.conf:1: smarthost: unknown TLS mode 'tls' (use starttls, smtps or none)"},
      {"smarthost = a.example smtps extra\n",
       "relay.conf:1: smarthost: unknown TLS mode 'smtps extra' (use starttls, smtps or none)"},
      {"smarthost = a.example:\n", "relay.conf:1: smarthost: empty port in smarthost"},
      {"smarthost = a.example:0\n", "relay.conf:1: smarthost: bad port '0'"},
      {"smarthost = a.example:65536\n", "relay.conf:1: smarthost: bad port '65536'"},
      {"smarthost = a.example:99999999999\n", "relay.conf:1: smarthost: bad port '99999999999'"},
      {"smarthost = a.example:25x\n", "relay.conf:1: smarthost: bad port '25x'"},
      {"smarthost = a.example:-25\n", "relay.conf:1: smarthost: bad port '-25'"},
      {"smarthost = a.example:+25\n", "relay.conf:1: smarthost: bad port '+25'"},
      {"smarthost = a.example:smtp\n", "relay.conf:1: smarthost: bad port 'smtp'"},
      {"smarthost = :25\n", "relay.conf:1: smarthost: bad host name ''"},
      {"smarthost = -a.example\n", "relay.conf:1: smarthost: bad host name '-a.example'"},
      {"smarthost = a/b.example\n", "relay.conf:1: smarthost: bad host name 'a/b.example'"},
      {"smarthost = ::1\n", "relay.conf:1: smarthost: IPv6 smarthost must be written in brackets, e.g. [::1]:25"},
      {"smarthost = 2001:db8::1:25\n",
       "relay.conf:1: smarthost: IPv6 smarthost must be written in brackets, e.g. [::1]:25"},
      {"smarthost = [::1\n", "relay.conf:1: smarthost: unclosed '[' in smarthost"},
      {"smarthost = [::1]25\n", "relay.conf:1: smarthost: junk after ']' in smarthost"},
      {"smarthost = [::1]:\n", "relay.conf:1: smarthost: empty port in smarthost"},
      {"smarthost = [::1]:0\n", "relay.conf:1: smarthost: bad port '0'"},
      {"smarthost = []\n", "relay.conf:1: smarthost: bad IPv6 address ''"},
      {"smarthost = [192.0.2.1]\n", "relay.conf:1: smarthost: bad IPv6 address '192.0.2.1'"},
      {"smarthost = [fe80::1%eth0]:25\n", "relay.conf:1: smarthost: bad IPv6 address 'fe80::1%eth0'"},
      {"smarthost = [mail.example.com]\n", "relay.conf:1: smarthost: bad IPv6 address 'mail.example.com'"},
      {"smarthost = ok.example\nsmarthost = [::1] bogus\n",
       "relay.conf:2: smarthost: unknown TLS mode 'bogus' (use starttls, smtps or none)"},
  };
  for (const ErrorCase& e : errors) {
    SCOPED_TRACE(e.text);
    Config c;
    Status s = ParseConfig(e.text, "relay.conf", &c);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), Status::Kind::kConfig);
    EXPECT_EQ(s.exit_code(), EX_CONFIG);
    EXPECT_EQ(s.message(), e.message);
  }
}

// A size that does not fit in 64 bits once multiplied must be refused, not
// wrapped around: 2^34 G is 2^64 bytes, which wraps to 0, i.e. no limit at
// all, and the others wrap to arbitrary small or large limits.
TEST(Config, MessageSizeLimitOverflowIsRefused) {
  const ErrorCase errors[] = {
      {"message_size_limit = 17179869184G\n",
       "relay.conf:1: message_size_limit: bad size '17179869184G' (a number of bytes, or with K, M or G)"},
      {"message_size_limit = 18014398509481984K\n",
       "relay.conf:1: message_size_limit: bad size '18014398509481984K' (a number of bytes, or with K, M "
       "or G)"},
      {"message_size_limit = 99999999999999M\n",
       "relay.conf:1: message_size_limit: bad size '99999999999999M' (a number of bytes, or with K, M or "
       "G)"},
  };
  for (const ErrorCase& e : errors) {
    SCOPED_TRACE(e.text);
    Config c;
    Status s = ParseConfig(e.text, "relay.conf", &c);
    EXPECT_FALSE(s.ok()) << "message_size_limit became " << c.message_size_limit;
    EXPECT_EQ(s.kind(), Status::Kind::kConfig);
    EXPECT_EQ(s.message(), e.message);
  }
}

TEST(Config, ErrorNamesTheFile) {
  Config c;
  Status s = ParseConfig("\n\n\nfoo = bar\n", "/etc/relay.conf", &c);
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_EQ(s.message(), "/etc/relay.conf:4: unknown key 'foo'");
}

TEST(Config, NulInsideTextIsAControlCharacter) {
  // Built with an explicit length: a NUL inside the file must not end it.
  const std::string text("domain = a\0b.example\n", 21);
  Config c;
  Status s = ParseConfig(text, "relay.conf", &c);
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_EQ(s.message(), "relay.conf:1: control character in value of 'domain'");
}

TEST(Config, TlsModeNames) {
  struct {
    const char* name;
    TlsMode mode;
  } const cases[] = {{"starttls", kStart}, {"smtps", kSmtps}, {"none", kNone}};
  for (const auto& c : cases) {
    TlsMode m = TlsMode::kNone == c.mode ? kStart : kNone;
    ASSERT_TRUE(ParseTlsMode(c.name, &m)) << c.name;
    EXPECT_EQ(m, c.mode);
    EXPECT_STREQ(TlsModeName(c.mode), c.name);
  }
  const char* bad[] = {"", "tls", "SMTPS", " none", "starttls ", "ssl"};
  for (const char* b : bad) {
    TlsMode m = kSmtps;
    EXPECT_FALSE(ParseTlsMode(b, &m)) << b;
    EXPECT_EQ(m, kSmtps) << "a refused name must leave the mode alone: " << b;
  }
}

TEST(Config, EffectivePort) {
  Smarthost h;
  EXPECT_EQ(h.effective_port(), 587);
  h.tls = kSmtps;
  EXPECT_EQ(h.effective_port(), 465);
  h.tls = kNone;
  EXPECT_EQ(h.effective_port(), 25);
  h.port = 2525;
  EXPECT_EQ(h.effective_port(), 2525);
}

// The relayd keys.

TEST(Config, RelaydDefaults) {
  Config c;
  EXPECT_EQ(c.tls_ca_file, "");
  EXPECT_EQ(c.tls_ca_dir, "");
  EXPECT_EQ(c.tls_cert_file, "");
  EXPECT_EQ(c.tls_key_file, "");
  EXPECT_TRUE(c.tls_fingerprints.empty());
  EXPECT_EQ(c.tls_min_version, "1.2");
  EXPECT_EQ(c.helo_name, "");
  EXPECT_EQ(c.max_connections, 4);
  EXPECT_EQ(c.max_messages_per_connection, 100);
  EXPECT_EQ(c.retry_min, 300);
  EXPECT_EQ(c.retry_max, 3600);
  EXPECT_EQ(c.queue_lifetime, 5 * 86400);
  EXPECT_EQ(c.bounce_size_limit, 50000);
  EXPECT_EQ(c.log, "syslog");
  EXPECT_EQ(c.timeout_connect, 30);
  EXPECT_EQ(c.timeout_greeting, 300);
  EXPECT_EQ(c.timeout_command, 300);
  EXPECT_EQ(c.timeout_data_init, 120);
  EXPECT_EQ(c.timeout_data_block, 180);
  EXPECT_EQ(c.timeout_data_done, 600);
}

TEST(Config, ParseDuration) {
  struct {
    const char* text;
    int64_t seconds;
  } const cases[] = {
      {"0", 0},      {"30", 30},       {"30s", 30},          {"5m", 300},         {"1h", 3600},
      {"5d", 432000}, {"2w", 1209600}, {"0d", 0},            {"007m", 420},
      {"9223372036854775807", INT64_MAX}, {"9223372036854775807s", INT64_MAX},
  };
  for (const auto& c : cases) {
    int64_t got = -7;
    EXPECT_TRUE(ParseDuration(c.text, &got)) << c.text;
    EXPECT_EQ(got, c.seconds) << c.text;
  }
  const char* bad[] = {"", "s", "m", "-1", "-1m", "+5", "1.5h", "5M", "5H", "1 h", " 1h", "h1", "5y", "1hs", "30sec"};
  for (const char* b : bad) {
    int64_t got = -7;
    EXPECT_FALSE(ParseDuration(b, &got)) << b;
    EXPECT_EQ(got, -7) << "a refused duration must leave the value alone: " << b;
  }
}

// A duration whose seconds do not fit in 64 bits must be refused, not
// overflowed (signed overflow is undefined behaviour; in practice it wraps to
// a negative or arbitrary timeout). Run in a child process so that the
// sanitizer build, which aborts on the overflow, reports a failure here
// instead of killing the whole test binary.
TEST(Config, ParseDurationOverflowIsRefused) {
  const char* huge[] = {"9223372036854775807m", "106751991167301d", "15250284452472w", "2562047788015216h"};
  for (const char* h : huge) {
    EXPECT_EXIT(
        {
          int64_t secs = 0;
          bool ok = ParseDuration(h, &secs);
          std::fprintf(stderr, "ParseDuration(\"%s\") = %s, %lld\n", h, ok ? "true" : "false",
                       static_cast<long long>(secs));
          std::exit(ok ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "")
        << h;
  }
}

TEST(Config, RelaydKeys) {
  const std::string colon_pin = [] {
    std::string p = "SHA256:";
    for (int i = 0; i < 32; ++i) p += i ? ":AB" : "AB";
    return p;
  }();
  const std::string text =
      "tls_ca_file = /etc/ssl/ca.pem\n"
      "tls_ca_dir = /etc/ssl/certs\n"
      "tls_cert_file = /etc/relay/client.pem\n"
      "tls_key_file = /etc/relay/client.key\n"
      "tls_fingerprint = sha256:" + std::string(64, '0') + "\n"
      "tls_fingerprint = " + colon_pin + "\n"
      "tls_min_version = 1.3\n"
      "helo_name = relay.example.com\n"
      "max_connections = 100\n"
      "max_messages_per_connection = 1\n"
      "retry_min = 1m\n"
      "retry_max = 2h\n"
      "queue_lifetime = 0\n"
      "bounce_size_limit = 1M\n"
      "log = /var/log/relay.log\n"
      "timeout_connect = 10s\n"
      "timeout_greeting = 1m\n"
      "timeout_command = 2m\n"
      "timeout_data_init = 3m\n"
      "timeout_data_block = 4m\n"
      "timeout_data_done = 1h\n";
  Config c;
  Status s = ParseConfig(text, "relay.conf", &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.tls_ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(c.tls_ca_dir, "/etc/ssl/certs");
  EXPECT_EQ(c.tls_cert_file, "/etc/relay/client.pem");
  EXPECT_EQ(c.tls_key_file, "/etc/relay/client.key");
  std::string ab;
  for (int i = 0; i < 32; ++i) ab += "ab";
  EXPECT_EQ(c.tls_fingerprints,
            (std::vector<std::string>{"sha256:" + std::string(64, '0'), "sha256:" + ab}));
  EXPECT_EQ(c.tls_min_version, "1.3");
  EXPECT_EQ(c.helo_name, "relay.example.com");
  EXPECT_EQ(c.max_connections, 100);
  EXPECT_EQ(c.max_messages_per_connection, 1);
  EXPECT_EQ(c.retry_min, 60);
  EXPECT_EQ(c.retry_max, 7200);
  EXPECT_EQ(c.queue_lifetime, 0);
  EXPECT_EQ(c.bounce_size_limit, 1024 * 1024);
  EXPECT_EQ(c.log, "/var/log/relay.log");
  EXPECT_EQ(c.timeout_connect, 10);
  EXPECT_EQ(c.timeout_greeting, 60);
  EXPECT_EQ(c.timeout_command, 120);
  EXPECT_EQ(c.timeout_data_init, 180);
  EXPECT_EQ(c.timeout_data_block, 240);
  EXPECT_EQ(c.timeout_data_done, 3600);

  for (const char* log : {"syslog", "stderr"}) {
    Config l;
    ASSERT_TRUE(ParseConfig(std::string("log = ") + log + "\n", "relay.conf", &l).ok()) << log;
    EXPECT_EQ(l.log, log);
  }
}

TEST(Config, RelaydKeyErrors) {
  const std::string d = "' (e.g. 30s, 5m, 1h, 5d)";
  const std::string pin = "expected sha256: and 64 hex digits (colons allowed)";
  const struct {
    std::string text;
    std::string message;
  } errors[] = {
      {"tls_ca_file = ca.pem\n", "relay.conf:1: tls_ca_file: must be an absolute path"},
      {"tls_key_file = key\n", "relay.conf:1: tls_key_file: must be an absolute path"},
      {"tls_fingerprint = " + std::string(64, 'a') + "\n", "relay.conf:1: tls_fingerprint: " + pin},
      {"tls_fingerprint = sha1:" + std::string(64, 'a') + "\n", "relay.conf:1: tls_fingerprint: " + pin},
      {"tls_fingerprint = sha256:" + std::string(63, 'a') + "\n", "relay.conf:1: tls_fingerprint: " + pin},
      {"tls_fingerprint = sha256:" + std::string(65, 'a') + "\n", "relay.conf:1: tls_fingerprint: " + pin},
      {"tls_fingerprint = sha256:" + std::string(63, 'a') + "g\n", "relay.conf:1: tls_fingerprint: " + pin},
      {"tls_min_version = 1.1\n", "relay.conf:1: tls_min_version: must be 1.2 or 1.3"},
      {"tls_min_version = TLSv1.2\n", "relay.conf:1: tls_min_version: must be 1.2 or 1.3"},
      {"helo_name = bad name\n", "relay.conf:1: helo_name: bad host name 'bad name'"},
      {"max_connections = 0\n", "relay.conf:1: max_connections: must be a number from 1 to 100"},
      {"max_connections = 101\n", "relay.conf:1: max_connections: must be a number from 1 to 100"},
      {"max_connections = 4x\n", "relay.conf:1: max_connections: must be a number from 1 to 100"},
      {"max_connections = 99999999999\n", "relay.conf:1: max_connections: must be a number from 1 to 100"},
      {"max_messages_per_connection = 100001\n",
       "relay.conf:1: max_messages_per_connection: must be a number from 1 to 100000"},
      {"retry_min = 0\n", "relay.conf:1: retry_min: bad duration '0" + d},
      {"retry_min = 5 m\n", "relay.conf:1: retry_min: bad duration '5 m" + d},
      {"queue_lifetime = -1d\n", "relay.conf:1: queue_lifetime: bad duration '-1d" + d},
      {"timeout_connect = 0s\n", "relay.conf:1: timeout_connect: bad duration '0s" + d},
      {"bounce_size_limit = lots\n", "relay.conf:1: bounce_size_limit: bad size 'lots'"},
      {"log = syslogd\n", "relay.conf:1: log: must be syslog, stderr, or an absolute file path"},
      {"log = relay.log\n", "relay.conf:1: log: must be syslog, stderr, or an absolute file path"},
      // Checks across keys name the file but no line.
      {"retry_min = 2h\nretry_max = 1h\n", "relay.conf: retry_max is shorter than retry_min"},
      {"retry_max = 1m\n", "relay.conf: retry_max is shorter than retry_min"},
      {"tls_cert_file = /c.pem\n", "relay.conf: tls_cert_file and tls_key_file go together"},
      {"tls_key_file = /k.pem\n", "relay.conf: tls_cert_file and tls_key_file go together"},
  };
  for (const auto& e : errors) {
    SCOPED_TRACE(e.text);
    Config c;
    Status s = ParseConfig(e.text, "relay.conf", &c);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), Status::Kind::kConfig);
    EXPECT_EQ(s.message(), e.message);
  }
}

// bounce_size_limit is signed: a size beyond INT64_MAX must be refused rather
// than turn into a negative limit.
TEST(Config, BounceSizeLimitOverflowIsRefused) {
  for (const char* v : {"9223372036854775808", "18446744073709551615", "8589934592G"}) {
    SCOPED_TRACE(v);
    Config c;
    Status s = ParseConfig(std::string("bounce_size_limit = ") + v + "\n", "relay.conf", &c);
    EXPECT_FALSE(s.ok()) << "bounce_size_limit became " << c.bounce_size_limit;
    EXPECT_EQ(s.message(), std::string("relay.conf:1: bounce_size_limit: bad size '") + v + "'");
  }
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
  ASSERT_TRUE(f.good()) << path;
}

TEST(Config, LoadMissingFileGivesDefaults) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c;
  Status s = LoadConfig(Env::Default(), dir.path() + "/relay.conf", &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.path, "");
  EXPECT_EQ(c.spool_dir, "/var/spool/relay");
  EXPECT_EQ(c.domain, "");
  EXPECT_EQ(c.aliases, "/etc/aliases");
  EXPECT_TRUE(c.smarthosts.empty());
  EXPECT_EQ(c.tls, TlsMode::kStartTls);
  EXPECT_EQ(c.message_size_limit, 0u);

  // A missing directory on the way is the same.
  s = LoadConfig(Env::Default(), dir.path() + "/no/such/dir/relay.conf", &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.path, "");
}

// A file named with -C must exist: the defaults would put mail in a spool
// the caller never meant (sendmail, relayd and relayctl; issue 22).
TEST(Config, LoadNamedMissingFileIsAConfigError) {
  testing::TempDir dir;
  Config c;
  Status s = LoadConfig(Env::Default(), dir.path() + "/relay.conf", &c, /*named=*/true);
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_EQ(s.message(), "-C " + dir.path() + "/relay.conf: no such configuration file");
  WriteFile(dir.path() + "/relay.conf", "domain = example.net\n");
  s = LoadConfig(Env::Default(), dir.path() + "/relay.conf", &c, /*named=*/true);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.domain, "example.net");
}

TEST(Config, LoadReadsAndParsesTheFile) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/relay.conf";
  WriteFile(path, "domain = example.net\nsmarthost = [::1]:2525 none\nmessage_size_limit = 2K\n");
  Config c;
  Status s = LoadConfig(Env::Default(), path, &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.path, path);
  EXPECT_EQ(c.domain, "example.net");
  EXPECT_EQ(c.message_size_limit, 2048u);
  ExpectHosts(c.smarthosts, {{"::1", 2525, kNone, true, 2525}});
}

TEST(Config, LoadReportsErrorsWithThePath) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/relay.conf";
  WriteFile(path, "domain = example.net\n\nsmarthost = host:0\n");
  Config c;
  Status s = LoadConfig(Env::Default(), path, &c);
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_EQ(s.message(), path + ":3: smarthost: bad port '0'");
}

TEST(Config, LoadUnreadableIsAConfigError) {
  testing::TempDir dir;
  // A directory where the file should be: open works, read fails.
  Config c;
  Status s = LoadConfig(Env::Default(), dir.path(), &c);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kConfig);
  EXPECT_EQ(s.message(), "read " + dir.path() + ": Is a directory");
  EXPECT_EQ(c.path, "");
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

// Found by fuzz/config_fuzz.cc: from_chars took a leading minus sign.
TEST(Config, SignedNumbersAreRefused) {
  for (const char* v : {"-0", "-0s", "+5m", "-1"}) {
    int64_t secs = -7;
    EXPECT_FALSE(ParseDuration(v, &secs)) << v;
  }
  Config cfg;
  EXPECT_FALSE(ParseConfig("max_connections = -0\n", "relay.conf", &cfg).ok());
}

}  // namespace
}  // namespace relay
