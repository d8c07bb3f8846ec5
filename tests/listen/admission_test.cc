#include "relay/listen/admission.h"

#include <gtest/gtest.h>

#include <string>

namespace relay {
namespace {

constexpr std::string_view k554 = "554 5.7.1 access denied\r\n";
constexpr std::string_view k421Auth = "421 4.7.0 too many authentication failures; try again later\r\n";
constexpr std::string_view k421Pool = "421 4.7.0 too many connections; try again later\r\n";

constexpr auto kLo = ClientClass::kLoopback;
constexpr auto kNet = ClientClass::kAllowed;
constexpr auto kOther = ClientClass::kRefused;
constexpr auto kPlain = TlsMode::kNone;
constexpr auto kStart = TlsMode::kStartTls;
constexpr auto kSmtps = TlsMode::kSmtps;

constexpr auto kLocal = AdmitAction::kServeLocal;
constexpr auto kSmtpd = AdmitAction::kStartSmtpd;
constexpr auto kRefuse = AdmitAction::kRefuse;

// Every rule, and the order in which they apply, with limits of 3 per pool
// and 2 per address.
TEST(Admission, EveryRuleInOrder) {
  struct Case {
    const char* what;
    ClientClass client;
    TlsMode tls;
    bool blocked;
    int same, loopback, remote;
    AdmitAction action;
    RefusalReason reason;
    bool counted_remote;
    std::string_view reply;
  };
  using R = RefusalReason;
  const Case cases[] = {
      // 1. Neither loopback nor listen_allow: 554 before anything else.
      {"other, starttls", kOther, kStart, false, 0, 0, 0, kRefuse, R::kNotAllowed, false, k554},
      {"other, plain", kOther, kPlain, false, 0, 0, 0, kRefuse, R::kNotAllowed, false, k554},
      {"other, smtps: bare close", kOther, kSmtps, false, 0, 0, 0, kRefuse, R::kNotAllowed, false, ""},
      {"other, blocked and full", kOther, kStart, true, 2, 3, 3, kRefuse, R::kNotAllowed, false, k554},
      // 2. The AUTH failure table, for whom relay-smtpd would serve.
      {"net, blocked", kNet, kStart, true, 0, 0, 0, kRefuse, R::kAuthFailures, false, k421Auth},
      {"net, plain, blocked", kNet, kPlain, true, 0, 0, 0, kRefuse, R::kAuthFailures, false, k421Auth},
      {"net, smtps, blocked: bare close", kNet, kSmtps, true, 0, 0, 0, kRefuse, R::kAuthFailures, false, ""},
      {"net, blocked and full", kNet, kStart, true, 2, 3, 3, kRefuse, R::kAuthFailures, false, k421Auth},
      {"loopback, smtps, blocked", kLo, kSmtps, true, 0, 0, 0, kRefuse, R::kAuthFailures, false, ""},
      {"loopback, starttls: table not asked", kLo, kStart, true, 0, 0, 0, kLocal, R::kNone, false, ""},
      {"loopback, plain: table not asked", kLo, kPlain, true, 0, 0, 0, kLocal, R::kNone, false, ""},
      // 3. Each pool against its limit, each address against its own.
      {"net, remote pool one short", kNet, kStart, false, 0, 0, 2, kSmtpd, R::kNone, true, ""},
      {"net, remote pool full", kNet, kStart, false, 0, 0, 3, kRefuse, R::kPoolFull, false, k421Pool},
      {"net, remote pool over", kNet, kStart, false, 0, 0, 7, kRefuse, R::kPoolFull, false, k421Pool},
      {"net, smtps, remote pool full", kNet, kSmtps, false, 0, 0, 3, kRefuse, R::kPoolFull, false, ""},
      {"net, loopback pool full", kNet, kStart, false, 0, 3, 0, kSmtpd, R::kNone, true, ""},
      {"loopback, pool one short", kLo, kStart, false, 0, 2, 0, kLocal, R::kNone, false, ""},
      {"loopback, pool full", kLo, kStart, false, 0, 3, 0, kRefuse, R::kPoolFull, false, k421Pool},
      {"loopback, plain, pool full", kLo, kPlain, false, 0, 3, 0, kRefuse, R::kPoolFull, false, k421Pool},
      {"loopback, remote pool full", kLo, kStart, false, 0, 0, 3, kLocal, R::kNone, false, ""},
      {"loopback, smtps, pool full", kLo, kSmtps, false, 0, 3, 0, kRefuse, R::kPoolFull, false, ""},
      {"loopback, smtps, remote pool full", kLo, kSmtps, false, 0, 0, 3, kSmtpd, R::kNone, false, ""},
      {"net, address one short", kNet, kStart, false, 1, 0, 1, kSmtpd, R::kNone, true, ""},
      {"net, address full", kNet, kStart, false, 2, 0, 2, kRefuse, R::kPoolFull, false, k421Pool},
      {"loopback, address full", kLo, kPlain, false, 2, 2, 0, kRefuse, R::kPoolFull, false, k421Pool},
      {"loopback, smtps, address full", kLo, kSmtps, false, 2, 2, 0, kRefuse, R::kPoolFull, false, ""},
      // 4. Served: by relay-smtpd (TLS is its), or relayd's own child.
      {"net, starttls", kNet, kStart, false, 0, 0, 0, kSmtpd, R::kNone, true, ""},
      {"net, plain", kNet, kPlain, false, 0, 0, 0, kSmtpd, R::kNone, true, ""},
      {"net, smtps", kNet, kSmtps, false, 0, 0, 0, kSmtpd, R::kNone, true, ""},
      {"loopback, smtps", kLo, kSmtps, false, 0, 0, 0, kSmtpd, R::kNone, false, ""},
      {"loopback, starttls", kLo, kStart, false, 0, 0, 0, kLocal, R::kNone, false, ""},
      {"loopback, plain", kLo, kPlain, false, 0, 0, 0, kLocal, R::kNone, false, ""},
  };
  for (const Case& c : cases) {
    AdmissionInput in;
    in.client = c.client;
    in.tls = c.tls;
    in.auth_blocked = c.blocked;
    in.same_client = c.same;
    in.loopback_pool = c.loopback;
    in.remote_pool = c.remote;
    in.max_connections = 3;
    in.max_per_client = 2;
    Admission a = Admit(in);
    EXPECT_EQ(a.action, c.action) << c.what;
    EXPECT_EQ(a.reason, c.reason) << c.what;
    EXPECT_EQ(a.remote, c.counted_remote) << c.what;
    EXPECT_EQ(a.reply, c.reply) << c.what;
  }
}

// The limits are the input's, not constants: listen_max_connections and
// listen_max_per_client at the ends of their ranges (1 and 1000).
TEST(Admission, LimitsComeFromTheConfiguration) {
  AdmissionInput in;
  in.client = ClientClass::kAllowed;
  in.max_connections = 1;
  in.max_per_client = 1000;
  EXPECT_EQ(Admit(in).action, AdmitAction::kStartSmtpd);
  in.remote_pool = 1;
  EXPECT_EQ(Admit(in).reason, RefusalReason::kPoolFull);
  in.max_connections = 1000;
  in.remote_pool = 999;
  in.same_client = 999;
  EXPECT_EQ(Admit(in).action, AdmitAction::kStartSmtpd);
  in.max_per_client = 1;
  in.same_client = 1;
  in.remote_pool = 1;
  EXPECT_EQ(Admit(in).reason, RefusalReason::kPoolFull);
}

// An input left at its defaults has relay.conf's default limits.
TEST(Admission, DefaultLimitsAreRelayConfs) {
  AdmissionInput in;
  Config cfg;
  EXPECT_EQ(in.max_connections, cfg.listen_max_connections);
  EXPECT_EQ(in.max_per_client, cfg.listen_max_per_client);
}

// The log says why, even where the client got only a close; what the e2e
// tests and fail2ban filters match.
TEST(Admission, LogLineNamesTheReason) {
  struct Case {
    RefusalReason reason;
    const char* addr;
    int port;
    std::string line;
  };
  const Case cases[] = {
      {RefusalReason::kNone, "192.0.2.3", 40000, ""},
      {RefusalReason::kNotAllowed, "192.0.2.3", 40000,
       "reject: connect from unknown[192.0.2.3]:40000: not on a listen_allow network"},
      {RefusalReason::kAuthFailures, "2001:db8::4", 1025,
       "reject: connect from unknown[2001:db8::4]:1025: too many authentication failures"},
      {RefusalReason::kPoolFull, "127.0.0.1", 5, "too many connections: refused 127.0.0.1:5"},
  };
  for (const Case& c : cases) {
    Admission a;
    a.reason = c.reason;
    EXPECT_EQ(AdmissionLogLine(a, c.addr, c.port), c.line) << c.line;
  }
  // As Admit() words them, smtps or not.
  AdmissionInput in;
  in.client = ClientClass::kRefused;
  in.tls = TlsMode::kSmtps;
  EXPECT_EQ(AdmissionLogLine(Admit(in), "198.51.100.7", 465),
            "reject: connect from unknown[198.51.100.7]:465: not on a listen_allow network");
}

}  // namespace
}  // namespace relay
