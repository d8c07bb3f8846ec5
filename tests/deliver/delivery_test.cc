// relayd's queue updates under failing files (issue: no mail lost): a
// bounce that cannot be written leaves its recipient queued; a power cut
// never leaves a recipient marked bounced without its bounce on disk.
#include "relay/deliver/delivery.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "testutil/fault_env.h"
#include "testutil/temp_dir.h"

namespace relay {
namespace {

using testing::FaultEnv;
using testing::Op;
using testing::TempDir;

constexpr char kId[] = "6610AAE723F5700TMGJ";

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths_).ok());
    Envelope e;
    e.id = kId;
    e.arrival_micros = Env::Default()->NowMicros();
    e.sender = "alice@example.com";
    e.recipients = {{"bad@x.org", ""}, {"later@x.org", ""}};
    std::string head;
    ASSERT_TRUE(EncodeHead(e, &head).ok());
    std::string content = "Subject: s\r\n\r\nbody\r\n";
    QueueWriter w(Env::Default(), paths_);
    bool exists;
    ASSERT_TRUE(w.Begin(kId, 0600, &exists).ok());
    ASSERT_TRUE(w.Append(head + content + EncodeTrailer({content.size(), false})).ok());
    ASSERT_TRUE(w.Commit().ok());
    cfg_.spool_dir = dir_.path();
    cfg_.domain = "example.com";
  }

  // Runs Record with one bounced and one deferred recipient.
  AttemptResult RecordWith(Env* env) {
    LoadedMessage m;
    EXPECT_TRUE(LoadMessage(paths_, kId, &m).ok());
    DeliveryContext ctx{&cfg_, &paths_, &aliases_, "host.example.com", &log_, &dirty_, &hosts_, nullptr, env,
                        "example.com"};
    Deliverer d(ctx, nullptr);
    std::vector<RcptOutcome> out = {{RcptState::kBounced, "5.1.1", "550 5.1.1 no such user"},
                                    {RcptState::kDeferred, "4.2.0", "450 4.2.0 later"}};
    return d.Record(&m, {0, 1}, out, false);
  }

  std::vector<std::string> Queue() const { return dir_.List("queue"); }
  std::string State() const {
    std::ifstream f(paths_.state() + "/" + kId);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  TempDir dir_;
  SpoolPaths paths_{dir_.path()};
  Config cfg_;
  Aliases aliases_;
  Logger log_{dir_.path() + "/log"};
  std::atomic<bool> dirty_{false};
  HostHealth hosts_;
};

TEST_F(DeliveryTest, BounceQueuedBeforeTheRecipientIsForgotten) {
  AttemptResult r = RecordWith(Env::Default());
  EXPECT_FALSE(r.removed);
  ASSERT_EQ(Queue().size(), 2u);  // the original and its bounce
  EXPECT_NE(State().find("rcpt 0 bounced"), std::string::npos) << State();
  EXPECT_NE(State().find("rcpt 1 deferred 4.2.0 450 4.2.0 later"), std::string::npos);
}

// ENOSPC, EDQUOT or EIO at each step of writing the bounce: the original
// stays, the failed recipient stays pending (never silently dropped), and
// no half bounce is left in queue/ or tmp/.
TEST_F(DeliveryTest, FailingBounceKeepsTheRecipient) {
  struct Point {
    Op op;
    int nth;
  };
  const Point points[] = {{Op::kCreate, 1}, {Op::kWrite, 1}, {Op::kWrite, 2}, {Op::kSync, 1},
                          {Op::kClose, 1},  {Op::kLink, 1},  {Op::kSyncDir, 1}};
  for (const Point& pt : points) {
    for (int err : {ENOSPC, EDQUOT, EIO}) {
      SCOPED_TRACE(::testing::Message() << "op " << static_cast<int>(pt.op) << " nth " << pt.nth
                                        << " errno " << err);
      std::remove((paths_.state() + "/" + kId).c_str());
      FaultEnv env;
      env.FailNth(pt.op, pt.nth, err);
      RecordWith(&env);
      EXPECT_EQ(Queue(), std::vector<std::string>{kId});
      EXPECT_TRUE(dir_.List("tmp").empty());
      EXPECT_EQ(State().find("rcpt 0 bounced"), std::string::npos) << State();
      EXPECT_NE(State().find("bounce could not be queued"), std::string::npos) << State();
    }
  }
}

// A full disk when the state file is written: the message stays queued,
// the reason is logged, nothing is lost (a retry may repeat work).
TEST_F(DeliveryTest, FailingStateWriteKeepsTheMessage) {
  FaultEnv env;
  env.FailNth(Op::kCreate, 2, ENOSPC);  // 1: the bounce, 2: the state file
  AttemptResult r = RecordWith(&env);
  EXPECT_TRUE(r.state_unsaved);  // the runner keeps the progress in memory
  EXPECT_EQ(Queue().size(), 2u);
  std::ifstream f(dir_.path() + "/log");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_NE(ss.str().find("cannot save delivery state"), std::string::npos) << ss.str();
  // Said with what follows: the entry takes no new work.
  EXPECT_NE(ss.str().find("no further attempt of it until its progress is written"), std::string::npos);
}

// A power cut right after Record: progress never runs ahead of what is on
// disk. If the state says "bounced", the bounce is there.
TEST_F(DeliveryTest, PowerCutNeverLosesABounce) {
  FaultEnv env;
  RecordWith(&env);
  env.DropUnsyncedData();
  bool bounced = State().find("rcpt 0 bounced") != std::string::npos;
  if (bounced) {
    EXPECT_EQ(Queue().size(), 2u);
  }
  EXPECT_NE(std::find(Queue().begin(), Queue().end(), kId), Queue().end());  // original survives
}

// RFC 3461: a recipient whose NOTIFY is NEVER, or lacks FAILURE, gets no
// failure notice from relay; the others of the same message still do,
// and the log names the recipient that got none.
TEST_F(DeliveryTest, NotifyWithoutFailureSendsNoBounce) {
  struct Case {
    std::vector<std::string> notifies;  // of bad@x.org, later@x.org
    size_t bounces;
    std::string named, not_named;
  } const cases[] = {
      {{"NEVER", "FAILURE"}, 1, "later@x.org", "bad@x.org"},
      {{"SUCCESS,DELAY", ""}, 1, "later@x.org", "bad@x.org"},
      {{"NEVER", "NEVER"}, 0, "", ""},
      {{"", "SUCCESS,FAILURE"}, 1, "bad@x.org", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.notifies[0] + " / " + c.notifies[1]);
    for (const std::string& f : Queue()) std::remove((paths_.queue() + "/" + f).c_str());
    std::remove((paths_.state() + "/" + kId).c_str());
    Envelope e;
    e.id = kId;
    e.arrival_micros = Env::Default()->NowMicros();
    e.sender = "alice@example.com";
    e.recipients = {{"bad@x.org", "", c.notifies[0]}, {"later@x.org", "", c.notifies[1]}};
    std::string head, content = "Subject: s\r\n\r\nbody\r\n";
    ASSERT_TRUE(EncodeHead(e, &head).ok());
    QueueWriter w(Env::Default(), paths_);
    bool exists;
    ASSERT_TRUE(w.Begin(kId, 0600, &exists).ok());
    ASSERT_TRUE(w.Append(head + content + EncodeTrailer({content.size(), false})).ok());
    ASSERT_TRUE(w.Commit().ok());
    LoadedMessage m;
    ASSERT_TRUE(LoadMessage(paths_, kId, &m).ok());
    DeliveryContext ctx{&cfg_, &paths_, &aliases_, "host.example.com", &log_, &dirty_, &hosts_, nullptr,
                        Env::Default(), "example.com"};
    Deliverer d(ctx, nullptr);
    std::vector<RcptOutcome> out = {{RcptState::kBounced, "5.1.1", "550 5.1.1 no such user"},
                                    {RcptState::kBounced, "5.0.0", "returned by the administrator"}};
    AttemptResult r = d.Record(&m, {0, 1}, out, false);
    EXPECT_TRUE(r.removed) << "every recipient is done, notice or not";
    std::vector<std::string> q = Queue();
    ASSERT_EQ(q.size(), c.bounces);
    if (c.bounces == 0) continue;
    std::ifstream f(paths_.queue() + "/" + q[0]);
    std::stringstream bounce;
    bounce << f.rdbuf();
    EXPECT_NE(bounce.str().find("rcpt alice@example.com\n"), std::string::npos);
    EXPECT_NE(bounce.str().find("Final-Recipient: rfc822; " + c.named), std::string::npos) << bounce.str();
    if (!c.not_named.empty()) {
      EXPECT_EQ(bounce.str().find("Final-Recipient: rfc822; " + c.not_named), std::string::npos) << bounce.str();
    }
  }
  std::ifstream lf(dir_.path() + "/log");
  std::stringstream log;
  log << lf.rdbuf();
  EXPECT_NE(log.str().find("to=<bad@x.org>: no failure notice sent to <alice@example.com> (NOTIFY=NEVER)"),
            std::string::npos)
      << log.str();
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

// The expiry reason names the lifetime exactly: a lifetime under an hour
// said "expired after 0 hours".
TEST_F(DeliveryTest, ExpiryNamesALifetimeUnderAnHour) {
  // The entry again, arrived 2000 s ago, past a 30-minute lifetime.
  std::remove(paths_.queue_file(kId).c_str());
  Envelope e;
  e.id = kId;
  e.arrival_micros = Env::Default()->NowMicros() - 2000 * int64_t{1000000};
  e.sender = "alice@example.com";
  e.recipients = {{"later@x.org", ""}};
  std::string head, content = "Subject: s\r\n\r\nbody\r\n";
  ASSERT_TRUE(EncodeHead(e, &head).ok());
  std::ofstream(paths_.queue_file(kId), std::ios::binary) << head << content
                                                         << EncodeTrailer({content.size(), false});
  cfg_.queue_lifetime = 1800;
  LoadedMessage m;
  ASSERT_TRUE(LoadMessage(paths_, kId, &m).ok());
  DeliveryContext ctx{&cfg_, &paths_, &aliases_, "host.example.com", &log_, &dirty_, &hosts_, nullptr,
                      Env::Default(), "example.com"};
  Deliverer d(ctx, nullptr);
  d.Record(&m, {0}, {{RcptState::kDeferred, "4.2.0", "450 4.2.0 later"}}, false);
  std::string bounce;
  for (const std::string& name : Queue())
    if (name != kId) {
      std::ifstream f(paths_.queue_file(name), std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      bounce = ss.str();
    }
  EXPECT_NE(bounce.find("message expired after 30 minutes in the queue; last error: 450 4.2.0 later"),
            std::string::npos)
      << bounce;
  EXPECT_EQ(bounce.find("0 hours"), std::string::npos);
}

// ApplyOutcomes, Record's decision with no I/O: one row per branch.
struct OutcomeRow {
  const char* name;
  RcptOutcome in;
  std::string notify;
  bool expired;
  Verdict verdict;
  RcptStatus::Kind kind;  // the recipient's state afterwards
  std::string dsn;        // kept in the state (pending ones only)
  std::string reason_start;
};

TEST(ApplyOutcomesTest, EachBranch) {
  constexpr int64_t kLifetime = 5 * 86400;
  const OutcomeRow rows[] = {
      {"done", {RcptState::kDone, "2.0.0", "250 ok"}, "", false, Verdict::kDone, RcptStatus::Kind::kDone, "", ""},
      {"done, expired", {RcptState::kDone, "2.0.0", "250 ok"}, "", true, Verdict::kDone, RcptStatus::Kind::kDone,
       "", ""},
      {"deferred", {RcptState::kDeferred, "4.2.0", "450 later"}, "", false, Verdict::kDeferred,
       RcptStatus::Kind::kPending, "4.2.0", "450 later"},
      {"deferred, expired: 4.x.x kept", {RcptState::kDeferred, "4.2.0", "450 later"}, "", true, Verdict::kBounce,
       RcptStatus::Kind::kPending, "4.2.0", "message expired after 5 days in the queue; last error: 450 later"},
      {"deferred, expired, no code: 4.4.7", {RcptState::kDeferred, "", "timed out"}, "", true, Verdict::kBounce,
       RcptStatus::Kind::kPending, "4.4.7", "message expired after 5 days"},
      {"deferred, expired, odd code: 4.4.7", {RcptState::kDeferred, "5.0.0", "x"}, "", true, Verdict::kBounce,
       RcptStatus::Kind::kPending, "4.4.7", "message expired after 5 days"},
      {"bounced", {RcptState::kBounced, "5.1.1", "550 no such user"}, "", false, Verdict::kBounce,
       RcptStatus::Kind::kPending, "5.1.1", "550 no such user"},
      {"bounced, NOTIFY=FAILURE", {RcptState::kBounced, "5.1.1", "550 no"}, "SUCCESS, failure", false,
       Verdict::kBounce, RcptStatus::Kind::kPending, "5.1.1", "550 no"},
      {"bounced, NOTIFY=NEVER", {RcptState::kBounced, "5.1.1", "550 no"}, "NEVER", false,
       Verdict::kBouncedSilently, RcptStatus::Kind::kBounced, "", ""},
      {"bounced, NOTIFY=SUCCESS,DELAY", {RcptState::kBounced, "5.1.1", "550 no"}, "SUCCESS,DELAY", false,
       Verdict::kBouncedSilently, RcptStatus::Kind::kBounced, "", ""},
      {"deferred, NOTIFY=NEVER", {RcptState::kDeferred, "4.2.0", "450 later"}, "NEVER", false, Verdict::kDeferred,
       RcptStatus::Kind::kPending, "4.2.0", "450 later"},
      {"deferred, expired, NOTIFY=NEVER", {RcptState::kDeferred, "4.2.0", "450 later"}, "NEVER", true,
       Verdict::kBouncedSilently, RcptStatus::Kind::kBounced, "", ""},
  };
  for (const OutcomeRow& row : rows) {
    SCOPED_TRACE(row.name);
    Envelope env;
    env.arrival_micros = 1000000000000;
    // An untried recipient first: only the attempted one may change.
    env.recipients = {{"other@x.org", ""}, {"r@x.org", ""}};
    env.recipients[1].notify = row.notify;
    int64_t now = env.arrival_micros + (row.expired ? kLifetime : kLifetime - 1) * 1000000;
    DeliveryState state;
    state.rcpts.assign(2, RcptStatus{RcptStatus::Kind::kPending, "4.0.0", "before"});
    std::vector<RcptOutcome> outcomes = {row.in};
    std::vector<Verdict> v = ApplyOutcomes(env, {1}, now, kLifetime, &outcomes, &state);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], row.verdict);
    EXPECT_EQ(state.rcpts[1].kind, row.kind);
    EXPECT_EQ(state.rcpts[1].dsn, row.dsn);
    EXPECT_EQ(state.rcpts[1].reason.rfind(row.reason_start, 0), 0u) << state.rcpts[1].reason;
    EXPECT_EQ(state.rcpts[0].kind, RcptStatus::Kind::kPending);
    EXPECT_EQ(state.rcpts[0].reason, "before");
    // The outcome that is logged says the same.
    if (row.verdict == Verdict::kBounce) {
      EXPECT_EQ(outcomes[0].dsn, row.dsn);
      EXPECT_EQ(outcomes[0].state, RcptState::kBounced);
    }
  }
}

TEST(ApplyOutcomesTest, SettleBouncesQueuedOrNot) {
  std::vector<size_t> idx = {0, 1, 2};
  std::vector<Verdict> v = {Verdict::kBounce, Verdict::kDeferred, Verdict::kDone};
  std::vector<RcptOutcome> out = {{RcptState::kBounced, "5.1.1", "550 no such user"},
                                  {RcptState::kDeferred, "4.2.0", "450 later"},
                                  {RcptState::kDone, "2.0.0", "250 ok"}};
  DeliveryState st;
  st.rcpts = {{RcptStatus::Kind::kPending, "5.1.1", "550 no such user"},
              {RcptStatus::Kind::kPending, "4.2.0", "450 later"},
              {RcptStatus::Kind::kDone, "", ""}};
  DeliveryState failed = st;
  SettleBounces(idx, v, out, Status::Ok(), &st);
  EXPECT_EQ(st.rcpts[0].kind, RcptStatus::Kind::kBounced);
  EXPECT_EQ(st.rcpts[0].reason, "");
  EXPECT_EQ(st.rcpts[1].kind, RcptStatus::Kind::kPending);
  EXPECT_EQ(st.rcpts[1].dsn, "4.2.0");
  EXPECT_EQ(st.pending(), 1u);

  SettleBounces(idx, v, out, Status::TempFail("disk full"), &failed);
  EXPECT_EQ(failed.rcpts[0].kind, RcptStatus::Kind::kPending);
  EXPECT_EQ(failed.rcpts[0].dsn, "4.3.0");
  EXPECT_EQ(failed.rcpts[0].reason,
            "permanent failure (550 no such user), but the bounce could not be queued: disk full");
  EXPECT_EQ(failed.rcpts[1].dsn, "4.2.0");
  EXPECT_EQ(failed.pending(), 2u);
}

}  // namespace
}  // namespace relay

namespace relay {
namespace {

// DelayNoticeFor, the delayed-delivery notice's decision: one row each.
TEST(DelayNoticeTest, Decision) {
  constexpr int64_t S = 1000000, T0 = 1800000000 * S;
  struct Row {
    const char* name;
    std::string sender;
    std::vector<std::string> notifies;  // of the two recipients
    int64_t age, warning;
    bool warned;
    bool second_done;
    bool due;
    std::vector<size_t> rcpts;
  } const rows[] = {
      {"off by default", "a@x", {"", ""}, 86400, 0, false, false, false, {}},
      {"too young", "a@x", {"", ""}, 3599, 3600, false, false, false, {}},
      {"no NOTIFY: both", "a@x", {"", ""}, 3600, 3600, false, false, true, {0, 1}},
      {"DELAY asked", "a@x", {"DELAY", "FAILURE,DELAY"}, 4000, 3600, false, false, true, {0, 1}},
      {"lower case", "a@x", {"success, delay", ""}, 4000, 3600, false, false, true, {0, 1}},
      {"NEVER and FAILURE", "a@x", {"NEVER", "SUCCESS,FAILURE"}, 4000, 3600, false, false, true, {}},
      {"one of two", "a@x", {"NEVER", "DELAY"}, 4000, 3600, false, false, true, {1}},
      {"done one left out", "a@x", {"", ""}, 4000, 3600, false, true, true, {0}},
      {"null sender: due, no notice", "", {"", "DELAY"}, 4000, 3600, false, false, true, {}},
      {"already warned", "a@x", {"", ""}, 90000, 3600, true, false, false, {}},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    Envelope e;
    e.sender = r.sender;
    e.arrival_micros = T0 - r.age * S;
    e.recipients = {{"one@x.org", "", r.notifies[0]}, {"two@x.org", "", r.notifies[1]}};
    DeliveryState st;
    st.rcpts.resize(2);
    st.delay_warned = r.warned;
    if (r.second_done) st.rcpts[1].kind = RcptStatus::Kind::kDone;
    DelayNotice n = DelayNoticeFor(e, st, T0, r.warning);
    EXPECT_EQ(n.due, r.due);
    EXPECT_EQ(n.rcpts, r.rcpts);
  }
}

// Record with delay_warning_time: one "delayed" DSN (RFC 3464, Action:
// delayed) about the recipient still queued, to the sender, once.
TEST_F(DeliveryTest, DelayNoticeQueuedOnce) {
  std::remove(paths_.queue_file(kId).c_str());
  Envelope e;
  e.id = kId;
  e.arrival_micros = Env::Default()->NowMicros() - 7200 * int64_t{1000000};
  e.sender = "alice@example.com";
  e.recipients = {{"later@x.org", "", "DELAY"}, {"quiet@x.org", "", "NEVER"}};
  std::string head, content = "Subject: s\r\n\r\nbody\r\n";
  ASSERT_TRUE(EncodeHead(e, &head).ok());
  std::ofstream(paths_.queue_file(kId), std::ios::binary) << head << content
                                                         << EncodeTrailer({content.size(), false});
  cfg_.delay_warning_time = 3600;
  for (int attempt = 0; attempt < 3; ++attempt) {
    LoadedMessage m;
    ASSERT_TRUE(LoadMessage(paths_, kId, &m).ok());
    DeliveryContext ctx{&cfg_, &paths_, &aliases_, "host.example.com", &log_, &dirty_, &hosts_, nullptr,
                        Env::Default(), "example.com"};
    Deliverer d(ctx, nullptr);
    std::vector<RcptOutcome> out = {{RcptState::kDeferred, "4.2.0", "450 4.2.0 later"},
                                    {RcptState::kDeferred, "4.2.0", "450 4.2.0 later"}};
    d.Record(&m, {0, 1}, out, false);
    EXPECT_NE(State().find("delay_warned 1"), std::string::npos) << State();
  }
  std::vector<std::string> q = Queue();
  ASSERT_EQ(q.size(), 2u) << "the original and one notice, whatever the attempts";
  std::string notice;
  for (const std::string& name : q)
    if (name != kId) {
      std::ifstream f(paths_.queue_file(name), std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      notice = ss.str();
    }
  EXPECT_NE(notice.find("rcpt alice@example.com\n"), std::string::npos) << notice;
  EXPECT_NE(notice.find("Subject: Delayed Mail (still being retried)\r\n"), std::string::npos) << notice;
  EXPECT_NE(notice.find("Final-Recipient: rfc822; later@x.org\r\nAction: delayed\r\nStatus: 4.2.0\r\n"),
            std::string::npos)
      << notice;
  EXPECT_EQ(notice.find("quiet@x.org"), std::string::npos) << "NOTIFY=NEVER is not named";
  EXPECT_EQ(notice.find("Action: failed"), std::string::npos);
  EXPECT_NE(notice.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(notice.find("\r\nbody\r\n"), std::string::npos) << "the header only";
}

}  // namespace
}  // namespace relay
