#include "relay/message/aliases.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace relay {
namespace {

const LocalPolicy kPolicy{"example.com", {"localhost", "host.example.com"}};

std::string Describe(const std::vector<AliasProblem>& problems) {
  std::string out;
  for (const AliasProblem& p : problems) {
    out += std::to_string(p.line) + ": " + p.message + "\n";
  }
  return out;
}

struct ExpandCase {
  std::string aliases;
  std::string recipient;
  std::vector<std::string> expected;
};

void CheckExpand(const ExpandCase& c) {
  SCOPED_TRACE("aliases: " + c.aliases + "\nrecipient: " + c.recipient);
  std::vector<AliasProblem> problems;
  Aliases aliases = Aliases::Parse(c.aliases, &problems);
  EXPECT_TRUE(problems.empty()) << Describe(problems);
  EXPECT_EQ(aliases.Expand(c.recipient, kPolicy), c.expected);
}

TEST(Aliases, Expand) {
  const ExpandCase cases[] = {
      {"root: admin@example.com", "root", {"admin@example.com"}},
      {"postmaster: root\nroot: a@x", "postmaster", {"a@x"}},
      {"*: root\nroot: a@x", "bob", {"a@x"}},
      {"*: root", "bob", {"root@example.com"}},
      {"a: b\nb: a", "a", {"a@example.com"}},
      {"root: root, admin@x", "root", {"root@example.com", "admin@x"}},
      // Local domains, case-insensitively; the lookup uses the local part.
      {"root: a@x", "root@localhost", {"a@x"}},
      {"root: a@x", "Root@LOCALHOST", {"a@x"}},
      {"root: a@x", "root@Host.Example.Com", {"a@x"}},
      {"root: a@x", "ROOT", {"a@x"}},
      {"ROOT: a@x", "root", {"a@x"}},
      // Non-local addresses pass through untouched.
      {"root: a@x", "root@elsewhere.org", {"root@elsewhere.org"}},
      {"*: root", "Bob@Elsewhere.org", {"Bob@Elsewhere.org"}},
      // Unaliased local names are qualified.
      {"root: a@x", "bob", {"bob@example.com"}},
      {"root: a@x", "bob@localhost", {"bob@example.com"}},
      {"", "bob", {"bob@example.com"}},
      // De-duplication, case-insensitive, first seen wins.
      {"team: a@x, A@X, b@y, a@x", "team", {"a@x", "b@y"}},
      {"team: dev, ops\ndev: a@x, b@y\nops: B@Y, c@z", "team", {"a@x", "b@y", "c@z"}},
      // Nested, with display names and comments in the targets.
      {"team: \"Doe, John\" <j@x>, ops (the ops people)\nops: o@x", "team",
       {"j@x", "o@x"}},
      // Targets that are local with a local domain are expanded again.
      {"a: b@localhost\nb: c@x", "a", {"c@x"}},
      // The catch-all applies once per path: what it produces is final.
      {"*: catch\ncatch: bob, carol@x", "bob", {"bob@example.com", "carol@x"}},
      {"*: root, other@x", "bob", {"root@example.com", "other@x"}},
      {"list: bob, carol\n*: root\nroot: a@x", "list", {"a@x"}},
      {"*: *", "bob", {"*@example.com"}},
      // Sendmail's "\user": final, not aliased again.
      {"root: \\root, admin@x", "root", {"root@example.com", "admin@x"}},
      {"admin: \\root\nroot: a@x", "admin", {"root@example.com"}},
      // Loops of several names.
      {"a: b\nb: c\nc: a, x@y", "a", {"a@example.com", "x@y"}},
      // Continuation lines and comments inside a block.
      {"team: a@x,\n  b@y,\n# not here\n\tc@z", "team", {"a@x", "b@y", "c@z"}},
      // Unqualified but quoted local parts.
      {"root: \"john doe\"", "root", {"\"john doe\"@example.com"}},
      // Windows line endings.
      {"root: a@x\r\n\r\nbob: b@y\r\n", "bob", {"b@y"}},
  };
  for (const ExpandCase& c : cases) CheckExpand(c);
}

TEST(Aliases, ExpandDepthLimit) {
  // a0 -> a1 -> ... -> a29 -> end@x: beyond depth 20 the chain is cut and
  // the name reached there is delivered, qualified.
  std::string text;
  for (int i = 0; i < 30; ++i) {
    text += "a" + std::to_string(i) + ": a" + std::to_string(i + 1) + "\n";
  }
  text += "a30: end@x\n";
  Aliases aliases = Aliases::Parse(text, nullptr);
  EXPECT_EQ(aliases.Expand("a0", kPolicy),
            std::vector<std::string>{"a21@example.com"});
  EXPECT_EQ(aliases.Expand("a15", kPolicy), std::vector<std::string>{"end@x"});
}

TEST(Aliases, ExpandIsNotExponential) {
  // Each level points twice at the next one: a naive expansion visits 2^40
  // paths. Each alias must be expanded once.
  std::string text;
  for (int i = 0; i < 40; ++i) {
    std::string next = std::to_string(i + 1);
    text += "a" + std::to_string(i) + ": a" + next + ", b" + next + "\n";
    text += "b" + std::to_string(i) + ": a" + next + ", b" + next + "\n";
  }
  text += "a40: x@y\nb40: z@y\n";
  Aliases aliases = Aliases::Parse(text, nullptr);
  std::vector<std::string> result = aliases.Expand("a20", kPolicy);
  EXPECT_EQ(result, (std::vector<std::string>{"x@y", "z@y"}));
}

TEST(Aliases, ExpandWithoutDomainLeavesNamesBare) {
  Aliases aliases = Aliases::Parse("*: root", nullptr);
  LocalPolicy policy{"", {"localhost"}};
  EXPECT_EQ(aliases.Expand("bob", policy), std::vector<std::string>{"root"});
}

TEST(Aliases, ExpandPassesThroughUnusableRecipients) {
  Aliases aliases = Aliases::Parse("*: root", nullptr);
  struct {
    std::string recipient;
    std::vector<std::string> expected;
  } cases[] = {
      {"", {""}},
      {"@", {"@"}},
      {"@localhost", {"@localhost"}},
      // Found by aliases_fuzz: a lone backslash used to come back as "".
      {"\\", {"\\"}},
      {"\\@localhost", {"@localhost"}},
      {"\\bob", {"bob@example.com"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(aliases.Expand(c.recipient, kPolicy), c.expected) << c.recipient;
  }
}

TEST(Aliases, ExpandNeverEmpty) {
  Aliases aliases = Aliases::Parse("root: a@x", nullptr);
  const std::string recipients[] = {"", "@", "@localhost", "\"\"", "root@"};
  for (const std::string& r : recipients) {
    EXPECT_FALSE(aliases.Expand(r, kPolicy).empty()) << r;
  }
}

TEST(Aliases, IsLocal) {
  struct {
    std::string address;
    bool local;
  } cases[] = {
      {"root", true},
      {"root@localhost", true},
      {"root@LocalHost", true},
      {"root@host.example.com", true},
      {"root@example.com", false},
      {"root@", true},
      {"\"a@b\"", true},
      {"\"a@b\"@x", false},
      {"root@localhost.evil", false},
      {"\"abc@localhost", true},  // an unclosed quote quotes nothing
      {"\"abc@example.com", false},
      {"\"a\\\"@b\"", true},  // escaped quote inside quotes
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Aliases::IsLocal(c.address, kPolicy), c.local) << c.address;
  }
}

TEST(Aliases, ParseAcceptsWellFormedFiles) {
  const std::string text =
      "# /etc/aliases\n"
      "\n"
      "mailer-daemon: postmaster\n"
      "postmaster:root\n"
      "Root  : admin@example.com,\n"
      "\tother@example.com\n"
      "   # indented comment\n"
      "*: root\n"
      "nobody: /dev/null, root\n";
  std::vector<AliasProblem> problems;
  Aliases aliases = Aliases::Parse(text, &problems);
  ASSERT_EQ(problems.size(), 1u) << Describe(problems);
  EXPECT_EQ(problems[0].line, 9);  // the /dev/null target
  EXPECT_EQ(aliases.size(), 5u);
  EXPECT_EQ(aliases.Expand("MAILER-DAEMON", kPolicy),
            (std::vector<std::string>{"admin@example.com", "other@example.com"}));
  EXPECT_EQ(aliases.Expand("nobody", kPolicy),
            (std::vector<std::string>{"admin@example.com", "other@example.com"}));
  EXPECT_EQ(aliases.Expand("stranger", kPolicy),
            (std::vector<std::string>{"admin@example.com", "other@example.com"}));
}

struct ProblemCase {
  std::string text;
  std::vector<std::string> message_parts;  // one per problem, in order
  std::vector<int> lines;
  size_t aliases_left;
};

TEST(Aliases, ReportsProblems) {
  const ProblemCase errors[] = {
      {"root admin@x", {"missing colon"}, {1}, 0},
      {"root: |/usr/bin/procmail",
       {"pipe target \"|/usr/bin/procmail\" not supported", "no usable target"},
       {1, 1},
       0},
      {"root: \"|/usr/bin/foo a, b\", a@x", {"pipe target"}, {1}, 1},
      {"root: /var/mail/root, a@x", {"file target"}, {1}, 1},
      {"list: :include:/etc/list, a@x", {":include:"}, {1}, 1},
      {"list: :INCLUDE:/etc/list", {":include:", "no usable target"}, {1, 1}, 0},
      {"root: a@x\nroot: b@y", {"duplicate alias \"root\" ignored: first defined on line 1"},
       {2}, 1},
      {"Root: a@x\nroot: b@y", {"duplicate alias \"root\""}, {2}, 1},
      {"root: |cmd\nroot: b@y", {"pipe", "no usable target", "duplicate"}, {1, 1, 2}, 0},
      {"\"x y\": a@x", {"quoted alias name"}, {1}, 0},
      {"root@localhost: a@x", {"has a domain"}, {1}, 0},
      {": a@x", {"missing alias name"}, {1}, 0},
      {"a b: a@x", {"invalid alias name"}, {1}, 0},
      {"root:", {"no usable target"}, {1}, 0},
      {"root: Joe Smith, a@x", {"could not be parsed"}, {1}, 1},
      {"root: " + std::string(321, 'a') + "@x", {"longer than 320", "no usable target"},
       {1, 1}, 0},
      {"  a@x\nroot: b@y", {"continuation line without an alias"}, {1}, 1},
      {"root: a@x\n\n  b@y", {"continuation line without an alias"}, {3}, 1},
      {"root: \\", {"cannot parse target", "no usable target"}, {1, 1}, 0},
      {"root: a@x\nbad\nother: c@z", {"missing colon"}, {2}, 2},
  };
  for (const ProblemCase& c : errors) {
    SCOPED_TRACE(c.text);
    std::vector<AliasProblem> problems;
    Aliases aliases = Aliases::Parse(c.text, &problems);
    ASSERT_EQ(problems.size(), c.message_parts.size()) << Describe(problems);
    for (size_t i = 0; i < problems.size(); ++i) {
      EXPECT_NE(problems[i].message.find(c.message_parts[i]), std::string::npos)
          << problems[i].message;
      EXPECT_EQ(problems[i].line, c.lines[i]);
    }
    EXPECT_EQ(aliases.size(), c.aliases_left);
  }
}

TEST(Aliases, FirstDefinitionWins) {
  Aliases aliases = Aliases::Parse("root: a@x\nROOT: b@y\n", nullptr);
  EXPECT_EQ(aliases.Expand("root", kPolicy), std::vector<std::string>{"a@x"});
}

TEST(Aliases, EmptyFile) {
  std::vector<AliasProblem> problems;
  Aliases aliases = Aliases::Parse("", &problems);
  EXPECT_TRUE(aliases.empty());
  EXPECT_TRUE(problems.empty());
  aliases = Aliases::Parse("# only comments\n\n   \n", &problems);
  EXPECT_TRUE(aliases.empty());
  EXPECT_TRUE(problems.empty());
}

}  // namespace
}  // namespace relay
