#include "relay/queue/mailq.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "testutil/temp_dir.h"

namespace relay {
namespace {

constexpr int64_t kNow = 1795545000123456;  // Tue 2026-11-24 18:30:00.123456 UTC
constexpr long kCet = 3600;

const std::string kHeader =
    "-Queue ID-           --Size-- ----Arrival Time---- -Sender/Recipient-------\n";

// One queue line as FormatQueueListing lays it out: the ID padded to 19, the
// mark, the size right-aligned in 8, the arrival time, the sender.
std::string Row(const std::string& id, const std::string& mark, const std::string& size,
                const std::string& when, const std::string& sender) {
  std::string out = id + std::string(19 - id.size(), ' ');
  out += mark.empty() ? " " : mark;
  out += ' ' + std::string(size.size() < 8 ? 8 - size.size() : 0, ' ') + size;
  out += ' ' + when + "  " + sender + "\n";
  return out;
}
std::string Rcpt(const std::string& address) { return std::string(51, ' ') + address + "\n"; }
std::string Error(const std::string& text) { return std::string(49, ' ') + "(" + text + ")\n"; }

struct ListingCase {
  const char* name;
  std::vector<QueueListItem> items;
  long gmtoff;
  std::string want;
};

TEST(Mailq, FormatQueueListing) {
  const ListingCase cases[] = {
      {"empty", {}, kCet, "Mail queue is empty\n"},
      {"one item",
       {{"66109E5E91C403LNJ8L", 2905, kNow, "root@example.com", {{"admin@example.com", ""}}, ""}},
       kCet,
       kHeader + Row("66109E5E91C403LNJ8L", "", "2905", "Tue Nov 24 19:30:00", "root@example.com") +
           Rcpt("admin@example.com") + "\n" + "-- 3 Kbytes in 1 Request.\n"},
      {"null sender is MAILER-DAEMON",
       {{"66109E5E91C403LNJ8L", 100, kNow, "", {{"user@example.com", ""}}, ""}},
       0,
       kHeader + Row("66109E5E91C403LNJ8L", "", "100", "Tue Nov 24 18:30:00", "MAILER-DAEMON") +
           Rcpt("user@example.com") + "\n" + "-- 1 Kbytes in 1 Request.\n"},
      {"several items, marks, errors",
       {{"66109E5E91C400000AA", 1024, kNow, "a@x", {{"b@y", ""}, {"c@z", "4.4.1 connection timed out"}}, ""},
        {"66109E5E91C410000BB", 1, kNow + 1000000, "d@x", {{"e@y", ""}}, "!"},
        {"66109E5E91C420000CC", 123456789, kNow + 2000000, "f@x", {}, "*"},
        {"66109E5E91C430000DD", 0, kNow, "", {}, "#"}},
       kCet,
       kHeader + Row("66109E5E91C400000AA", "", "1024", "Tue Nov 24 19:30:00", "a@x") + Rcpt("b@y") +
           Error("4.4.1 connection timed out") + Rcpt("c@z") + "\n" +
           Row("66109E5E91C410000BB", "!", "1", "Tue Nov 24 19:30:01", "d@x") + Rcpt("e@y") + "\n" +
           Row("66109E5E91C420000CC", "*", "123456789", "Tue Nov 24 19:30:02", "f@x") + "\n" +
           Row("66109E5E91C430000DD", "#", "0", "Tue Nov 24 19:30:00", "MAILER-DAEMON") + "\n" +
           "-- 120565 Kbytes in 4 Requests.\n"},
      {"single-digit day, west of UTC",
       {{"6600000000000000000", 2048, 1793707205000000, "x@y", {{"z@w", ""}}, ""}},
       -18000,
       kHeader + Row("6600000000000000000", "", "2048", "Tue Nov  3 07:00:05", "x@y") + Rcpt("z@w") + "\n" +
           "-- 2 Kbytes in 1 Request.\n"},
      {"control characters made printable",
       {{"66109E5E91C403LNJ8L", 10, kNow, "evil\x1b[31m@x\r\n", {{"a\nb@y\x7f", "bad\r\nnews\t"}}, ""}},
       kCet,
       kHeader + Row("66109E5E91C403LNJ8L", "", "10", "Tue Nov 24 19:30:00", "evil?[31m@x??") +
           Error("bad??news?") + Rcpt("a?b@y?") + "\n" + "-- 1 Kbytes in 1 Request.\n"},
      {"UTF-8 is kept",
       {{"66109E5E91C403LNJ8L", 10, kNow, "j\xc3\xb6rg@b\xc3\xbc" "cher.de", {{"\xc3\xa9@x", ""}}, ""}},
       kCet,
       kHeader + Row("66109E5E91C403LNJ8L", "", "10", "Tue Nov 24 19:30:00", "j\xc3\xb6rg@b\xc3\xbc" "cher.de") +
           Rcpt("\xc3\xa9@x") + "\n" + "-- 1 Kbytes in 1 Request.\n"},
  };
  for (const ListingCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FormatQueueListing(c.items, c.gmtoff), c.want);
  }
}

struct KbytesCase {
  std::vector<uint64_t> sizes;
  std::string summary;
};

// An entry on hold and a kept failure get different marks: '!' for held
// (as Postfix), '%' for failed; a damaged one '#'.
TEST(Mailq, HeldAndFailedAreMarkedApart) {
  testing::TempDir dir;
  SpoolPaths paths(dir.path());
  ASSERT_TRUE(CreatePrivateSpool(Env::Default(), paths).ok());
  auto put = [](const std::string& path, const std::string& id) {
    Envelope env;
    env.id = id;
    env.arrival_micros = kNow;
    env.sender = "s@x";
    env.recipients = {{"r@y", ""}};
    std::string head;
    ASSERT_TRUE(EncodeHead(env, &head).ok());
    std::string content = "Subject: s\r\n\r\nb\r\n";
    std::ofstream(path, std::ios::binary) << head << content << EncodeTrailer({content.size(), false});
  };
  put(paths.hold() + "/66109E5E91C410000AA", "66109E5E91C410000AA");
  put(paths.failed() + "/66109E5E91C410000BB", "66109E5E91C410000BB");
  put(paths.queue() + "/66109E5E91C410000CC", "66109E5E91C410000CC");
  std::ofstream(paths.queue() + "/66109E5E91C410000DD") << "relay-queue 1\n";
  std::vector<QueueListItem> items;
  ASSERT_TRUE(ReadQueueListing(paths, &items).ok());
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].mark, "!");
  EXPECT_EQ(items[1].mark, "%");
  EXPECT_EQ(items[2].mark, "");
  EXPECT_EQ(items[3].mark, "#");
  std::string out = FormatQueueListing(items, 0);
  EXPECT_NE(out.find("\n66109E5E91C410000AA! "), std::string::npos) << out;
  EXPECT_NE(out.find("\n66109E5E91C410000BB% "), std::string::npos) << out;
}

TEST(Mailq, SummaryLine) {
  const KbytesCase cases[] = {
      {{0}, "-- 0 Kbytes in 1 Request.\n"},
      {{1}, "-- 1 Kbytes in 1 Request.\n"},
      {{1024}, "-- 1 Kbytes in 1 Request.\n"},
      {{1025}, "-- 2 Kbytes in 1 Request.\n"},
      {{512, 512}, "-- 1 Kbytes in 2 Requests.\n"},
      {{512, 513}, "-- 2 Kbytes in 2 Requests.\n"},
      {{0, 0, 0}, "-- 0 Kbytes in 3 Requests.\n"},
      {{10ull << 30}, "-- 10485760 Kbytes in 1 Request.\n"},
  };
  for (const KbytesCase& c : cases) {
    std::vector<QueueListItem> items;
    for (uint64_t s : c.sizes) items.push_back({"0000000000000000000", s, 0, "a@x", {{"b@y", ""}}, ""});
    std::string out = FormatQueueListing(items, 0);
    ASSERT_GE(out.size(), c.summary.size());
    EXPECT_EQ(out.substr(out.size() - c.summary.size()), c.summary);
    // The line before the summary is the blank line that ends the last item.
    EXPECT_EQ(out.substr(out.size() - c.summary.size() - 2, 2), "\n\n");
  }
}

// The example in mailq.h (and Postfix's mailq): the size ends under the end
// of "--Size--", the arrival time is under "----Arrival Time----" and the
// sender starts under "-Sender/Recipient-".
TEST(Mailq, ColumnsLineUpWithTheHeader) {
  std::vector<QueueListItem> items = {
      {"66109E5E91C403LNJ8L", 2905, kNow, "root@example.com", {{"admin@example.com", ""}}, ""}};
  std::string out = FormatQueueListing(items, kCet);
  size_t nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  std::string header = out.substr(0, nl);
  std::string row = out.substr(nl + 1, out.find('\n', nl + 1) - nl - 1);

  size_t size_end = header.find("--Size--") + 8;  // one past the last '-'
  size_t when_col = header.find("----Arrival Time----");
  size_t sender_col = header.find("-Sender/Recipient-");
  ASSERT_NE(when_col, std::string::npos);
  ASSERT_NE(sender_col, std::string::npos);
  ASSERT_GE(row.size(), sender_col);

  EXPECT_EQ(row.substr(size_end - 4, 5), "2905 ") << "row: '" << row << "'";
  EXPECT_EQ(row.substr(when_col, 19), "Tue Nov 24 19:30:00") << "row: '" << row << "'";
  EXPECT_EQ(row.substr(sender_col), "root@example.com") << "row: '" << row << "'";
}

// Recipients line up with the sender above them.
TEST(Mailq, RecipientsLineUpWithTheSender) {
  std::vector<QueueListItem> items = {
      {"66109E5E91C403LNJ8L", 2905, kNow, "root@example.com", {{"admin@example.com", ""}}, ""}};
  std::string out = FormatQueueListing(items, kCet);
  std::vector<std::string> lines;
  for (size_t p = 0, nl; (nl = out.find('\n', p)) != std::string::npos; p = nl + 1)
    lines.push_back(out.substr(p, nl - p));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[1].find("root@example.com"), lines[2].find("admin@example.com"));
}

// Nothing in an entry may be cut short or run into the next line, however
// long it is: a queue file's sender is whatever was written into it.
TEST(Mailq, LongAddressesAreNotTruncated) {
  const std::string sender = std::string(600, 's') + "@example.com";
  const std::string rcpt = std::string(600, 'r') + "@example.com";
  std::vector<QueueListItem> items = {{"66109E5E91C403LNJ8L", 1, kNow, sender, {{rcpt, ""}}, ""}};
  const std::string out = FormatQueueListing(items, kCet);
  const std::string want = kHeader + Row("66109E5E91C403LNJ8L", "", "1", "Tue Nov 24 19:30:00", sender) +
                           Rcpt(rcpt) + "\n" + "-- 1 Kbytes in 1 Request.\n";
  // Compared piecewise: printing 1300 bytes of 's' and 'r' helps nobody.
  EXPECT_NE(out.find("  " + sender + "\n"), std::string::npos) << "the sender was cut short";
  EXPECT_NE(out.find("\n" + Rcpt(rcpt)), std::string::npos) << "the recipient is not on a line of its own";
  EXPECT_EQ(out.size(), want.size());
  EXPECT_TRUE(out == want);
}

}  // namespace
}  // namespace relay
