#include "relay/message/line_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace relay {
namespace {

using namespace std::string_literals;

// Records every piece; "|" marks end_of_line == false, so a line delivered
// in pieces reads "abc|def".
class RecordingSink : public LineSink {
 public:
  // Stops after `stop_after` pieces when it is not 0.
  explicit RecordingSink(size_t stop_after = 0) : stop_after_(stop_after) {}

  bool OnPiece(std::string_view text, bool end_of_line) override {
    pieces.emplace_back(text);
    eol.push_back(end_of_line);
    current_ += text;
    if (end_of_line) {
      lines.push_back(current_);
      current_.clear();
    } else {
      current_ += '|';
    }
    return stop_after_ == 0 || pieces.size() < stop_after_;
  }

  std::vector<std::string> pieces;
  std::vector<bool> eol;
  std::vector<std::string> lines;

 private:
  size_t stop_after_;
  std::string current_;
};

struct SplitCase {
  std::string input;
  std::vector<std::string> lines;  // pieces of a line joined with '|'
  uint64_t dropped_cr;
  uint64_t dropped_nul;
};

// Feeds the whole input at once, then byte by byte: the result must not
// depend on how the input is cut.
void CheckSplit(const SplitCase& c, size_t piece_size) {
  for (int bytewise = 0; bytewise < 2; ++bytewise) {
    SCOPED_TRACE(bytewise ? "fed byte by byte" : "fed at once");
    RecordingSink sink;
    LineSplitter splitter(&sink, piece_size);
    if (bytewise) {
      for (char ch : c.input) ASSERT_TRUE(splitter.Feed(std::string_view(&ch, 1)));
    } else {
      ASSERT_TRUE(splitter.Feed(c.input));
    }
    ASSERT_TRUE(splitter.Finish());
    EXPECT_EQ(sink.lines, c.lines);
    EXPECT_EQ(splitter.dropped_cr(), c.dropped_cr);
    EXPECT_EQ(splitter.dropped_nul(), c.dropped_nul);
    for (const std::string& p : sink.pieces) {
      EXPECT_EQ(p.find_first_of("\r\n\0"s), std::string::npos) << "piece '" << p << "'";
      EXPECT_LE(p.size(), piece_size);
    }
  }
}

TEST(LineSplitter, Splits) {
  const SplitCase cases[] = {
      // Nothing, and empty lines.
      {"", {}, 0, 0},
      {"\n", {""}, 0, 0},
      {"\n\n", {"", ""}, 0, 0},
      {"\r\n", {""}, 0, 0},
      // LF.
      {"a\n", {"a"}, 0, 0},
      {"a\nbc\n", {"a", "bc"}, 0, 0},
      {"a\n\nb\n", {"a", "", "b"}, 0, 0},
      // CRLF.
      {"a\r\nbc\r\n", {"a", "bc"}, 0, 0},
      {"a\r\n\r\nb\r\n", {"a", "", "b"}, 0, 0},
      // Mixed, as PHP sends them: CRLF header, LF body.
      {"To: a@x\r\nSubject: s\r\n\r\nbody\nmore\n", {"To: a@x", "Subject: s", "", "body", "more"}, 0, 0},
      {"a\nb\r\nc\n", {"a", "b", "c"}, 0, 0},
      // A bare CR is dropped, never a line end.
      {"a\rb\n", {"ab"}, 1, 0},
      {"\r", {}, 1, 0},
      {"a\r", {"a"}, 1, 0},
      {"a\r\r\n", {"a"}, 1, 0},
      {"a\r\r\r\nb", {"a", "b"}, 2, 0},
      {"\ra\r\n", {"a"}, 1, 0},
      {"a\n\rb\n", {"a", "b"}, 1, 0},
      // NUL is dropped wherever it is; a CR then NUL then LF is a bare CR.
      {"a\0b\n"s, {"ab"}, 0, 1},
      {"\0\0\n"s, {""}, 0, 2},
      {"\0"s, {}, 0, 1},
      {"a\r\0\nb\n"s, {"a", "b"}, 1, 1},
      {"a\0\r\n"s, {"a"}, 0, 1},
      // Several CRs and NULs among whole lines: each is found once, and
      // the lines around them are still whole.
      {"a\rb\nc\r\nd\0e\r\nf\n\0\r\ng\r\r\n"s, {"ab", "c", "de", "f", "", "g"}, 2, 2},
      // A last line without a newline is ended as if it had one.
      {"abc", {"abc"}, 0, 0},
      {"a\nb", {"a", "b"}, 0, 0},
      {"a\r\nb", {"a", "b"}, 0, 0},
      // A lone dot is just a line here; the sink decides what it means.
      {".\n", {"."}, 0, 0},
      // Bytes above 0x7f pass untouched.
      {"caf\xc3\xa9\n\xff\n", {"caf\xc3\xa9", "\xff"}, 0, 0},
  };
  for (const SplitCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.input));
    CheckSplit(c, 4096);
  }
}

TEST(LineSplitter, LongLinesComeInPieces) {
  const SplitCase cases[] = {
      {"abc\n", {"abc"}, 0, 0},
      {"abcd\n", {"abcd|"}, 0, 0},
      {"abcde\n", {"abcd|e"}, 0, 0},
      {"abcdefghij\n", {"abcd|efgh|ij"}, 0, 0},
      {"abcdefgh\n", {"abcd|efgh|"}, 0, 0},
      {"abcdefghij", {"abcd|efgh|ij"}, 0, 0},
      {"abcdefgh", {"abcd|efgh|"}, 0, 0},
      {"abcdefgh\r\nxy\n", {"abcd|efgh|", "xy"}, 0, 0},
      // Just under, at and over the piece size, after LF and after CRLF.
      {"abc\r\nabcd\r\nabcde\r\nabc\nabcd\nabcde\n",
       {"abc", "abcd|", "abcd|e", "abc", "abcd|", "abcd|e"}, 0, 0},
      // Dropped bytes do not count towards a piece.
      {"ab\0\0cd\ref\n"s, {"abcd|ef"}, 1, 2},
  };
  for (const SplitCase& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.input));
    CheckSplit(c, 4);
  }
}

TEST(LineSplitter, EndOfLineFlags) {
  RecordingSink sink;
  LineSplitter splitter(&sink, 3);
  ASSERT_TRUE(splitter.Feed("abcdefg\nhi\n"));
  ASSERT_TRUE(splitter.Finish());
  EXPECT_EQ(sink.pieces, (std::vector<std::string>{"abc", "def", "g", "hi"}));
  EXPECT_EQ(sink.eol, (std::vector<bool>{false, false, true, true}));
}

TEST(LineSplitter, NothingIsTruncated) {
  const std::string line(100000, 'x');
  RecordingSink sink;
  LineSplitter splitter(&sink, 4096);
  ASSERT_TRUE(splitter.Feed(line + "\n"));
  ASSERT_TRUE(splitter.Finish());
  std::string joined;
  for (size_t i = 0; i < sink.pieces.size(); ++i) {
    joined += sink.pieces[i];
    EXPECT_EQ(sink.eol[i], i + 1 == sink.pieces.size());
  }
  EXPECT_EQ(joined, line);
  EXPECT_EQ(sink.pieces.size(), 25u);  // 24 full pieces of 4096 and 1696 bytes
  EXPECT_EQ(sink.pieces.back().size(), 100000u - 24 * 4096);
}

TEST(LineSplitter, CrLfSplitAcrossFeeds) {
  struct {
    std::vector<std::string> chunks;
    std::vector<std::string> lines;
    uint64_t dropped_cr;
  } const cases[] = {
      {{"a\r", "\nb\n"}, {"a", "b"}, 0},
      {{"a\r", "", "\nb\n"}, {"a", "b"}, 0},
      {{"a\r", "b\n"}, {"ab"}, 1},
      {{"a\r", "\r", "\n"}, {"a"}, 1},
      {{"a", "\r", "\n", "b"}, {"a", "b"}, 0},
      {{"a\r"}, {"a"}, 1},
  };
  for (const auto& c : cases) {
    RecordingSink sink;
    LineSplitter splitter(&sink);
    for (const std::string& chunk : c.chunks) ASSERT_TRUE(splitter.Feed(chunk));
    ASSERT_TRUE(splitter.Finish());
    EXPECT_EQ(sink.lines, c.lines) << testing::PrintToString(c.chunks);
    EXPECT_EQ(splitter.dropped_cr(), c.dropped_cr) << testing::PrintToString(c.chunks);
  }
}

TEST(LineSplitter, FinishTwiceDeliversNothingMore) {
  RecordingSink sink;
  LineSplitter splitter(&sink);
  ASSERT_TRUE(splitter.Feed("a\nb"));
  ASSERT_TRUE(splitter.Finish());
  ASSERT_TRUE(splitter.Finish());
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"a", "b"}));
}

TEST(LineSplitter, SinkReturningFalseStops) {
  RecordingSink sink(/*stop_after=*/2);
  LineSplitter splitter(&sink);
  EXPECT_FALSE(splitter.Feed("one\ntwo\nthree\nfour\n"));
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"one", "two"}));
  // Later calls do nothing and keep saying so.
  EXPECT_FALSE(splitter.Feed("five\n"));
  EXPECT_FALSE(splitter.Finish());
  EXPECT_EQ(sink.pieces, (std::vector<std::string>{"one", "two"}));
}

TEST(LineSplitter, SinkStopsInTheMiddleOfALongLine) {
  RecordingSink sink(/*stop_after=*/1);
  LineSplitter splitter(&sink, 4);
  EXPECT_FALSE(splitter.Feed("abcdefgh\n"));
  EXPECT_EQ(sink.pieces, (std::vector<std::string>{"abcd"}));
  EXPECT_EQ(sink.eol, (std::vector<bool>{false}));
  EXPECT_FALSE(splitter.Finish());
  EXPECT_EQ(sink.pieces.size(), 1u);
}

TEST(LineSplitter, SinkStopsOnTheLastUnterminatedLine) {
  RecordingSink sink(/*stop_after=*/1);
  LineSplitter splitter(&sink);
  EXPECT_TRUE(splitter.Feed("last"));
  EXPECT_FALSE(splitter.Finish());
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"last"}));
}

TEST(LineSplitter, SinkStopsAtTheDot) {
  // The way sendmail without -i uses it: a lone "." ends the input.
  class DotSink : public LineSink {
   public:
    bool OnPiece(std::string_view text, bool end_of_line) override {
      if (end_of_line && text == ".") return false;
      lines.emplace_back(text);
      return true;
    }
    std::vector<std::string> lines;
  } sink;
  LineSplitter splitter(&sink);
  EXPECT_FALSE(splitter.Feed("Subject: x\r\n\r\nbody\r\n.\r\nafter\r\n"));
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"Subject: x", "", "body"}));
}

}  // namespace
}  // namespace relay
