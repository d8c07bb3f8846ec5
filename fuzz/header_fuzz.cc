// libFuzzer target for reading a message's header: the input goes through
// LineSplitter the way sendmail reads its standard input, the lines through
// IsHeaderStart and HeaderField, and the input (as a name) through
// EncodeDisplayName, FullNameFromGecos and FormatRfc5322Date.
//
// Input: byte 0 sets the piece size, byte 1 the size of the chunks fed to
// the splitter, byte 2 after how many pieces the sink stops (0: never); the
// rest is the message.
//
// Checked:
//  - LineSplitter never emits '\n', '\r' or '\0'; the concatenation of its
//    pieces is the input minus CR, NUL and LF; the lines are those of a
//    simple reference splitter; pieces are at most piece_size, and all but
//    the last of a line exactly piece_size; the drop counters are right; how
//    the input is cut into Feed calls changes nothing; a sink that says stop
//    gets nothing more.
//  - IsHeaderStart agrees with a reference; HeaderField's value is what
//    follows the colon, and Unfolded() has no line breaks.
//  - EncodeDisplayName's output is one line of safe characters, and decodes
//    back to the name (atoms, quoted string or encoded words of <= 75
//    characters each, each whole UTF-8 when the name is).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "relay/message/header.h"
#include "relay/message/line_reader.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "header_fuzz: invariant failed: %s\n", what);
    std::abort();
  }
}

struct Piece {
  std::string text;
  bool eol;
};

class Sink : public relay::LineSink {
 public:
  explicit Sink(size_t stop_after) : stop_after_(stop_after) {}
  bool OnPiece(std::string_view text, bool end_of_line) override {
    Require(!stopped_, "no piece after the sink said stop");
    pieces.push_back({std::string(text), end_of_line});
    if (stop_after_ != 0 && pieces.size() >= stop_after_) stopped_ = true;
    return !stopped_;
  }
  std::vector<Piece> pieces;

 private:
  size_t stop_after_;
  bool stopped_ = false;
};

struct Reference {
  std::vector<std::string> lines;
  uint64_t dropped_cr = 0;
  uint64_t dropped_nul = 0;
};

// The rules of line_reader.h, written the obvious way.
Reference SplitReference(std::string_view in) {
  Reference r;
  std::string cur;
  bool have = false;  // bytes of the current line were seen (kept ones)
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\n') {
      r.lines.push_back(cur);
      cur.clear();
      have = false;
    } else if (c == '\r') {
      if (i + 1 < in.size() && in[i + 1] == '\n') continue;  // CRLF
      ++r.dropped_cr;
    } else if (c == '\0') {
      ++r.dropped_nul;
    } else {
      cur.push_back(c);
      have = true;
    }
  }
  if (have) r.lines.push_back(cur);
  return r;
}

std::vector<Piece> Split(std::string_view msg, size_t piece_size, size_t chunk, size_t stop_after,
                         uint64_t* dropped_cr, uint64_t* dropped_nul) {
  Sink sink(stop_after);
  relay::LineSplitter splitter(&sink, piece_size);
  bool going = true;
  for (size_t pos = 0; pos < msg.size(); pos += chunk) {
    bool r = splitter.Feed(msg.substr(pos, chunk));
    if (!going) Require(!r, "Feed keeps returning false after a stop");
    going = going && r;
  }
  bool r = splitter.Finish();
  if (!going) Require(!r, "Finish returns false after a stop");
  *dropped_cr = splitter.dropped_cr();
  *dropped_nul = splitter.dropped_nul();
  return sink.pieces;
}

void CheckSplitter(std::string_view msg, size_t piece_size, size_t chunk, size_t stop_after) {
  uint64_t cr = 0, nul = 0;
  std::vector<Piece> pieces = Split(msg, piece_size, chunk, 0, &cr, &nul);

  std::string all;
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Piece& p = pieces[i];
    Require(p.text.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
            "pieces hold no CR, LF or NUL");
    Require(p.text.size() <= piece_size, "pieces are at most piece_size");
    if (!p.eol) Require(p.text.size() == piece_size, "a piece that does not end a line is full");
    all += p.text;
    cur += p.text;
    if (p.eol) {
      lines.push_back(cur);
      cur.clear();
    }
  }
  Require(pieces.empty() || pieces.back().eol, "the last piece ends a line");

  std::string stripped;
  for (char c : msg)
    if (c != '\r' && c != '\n' && c != '\0') stripped.push_back(c);
  Require(all == stripped, "pieces concatenated are the input minus CR, NUL and LF");

  Reference ref = SplitReference(msg);
  Require(lines == ref.lines, "lines are the reference lines");
  Require(cr == ref.dropped_cr, "dropped_cr counts bare CRs");
  Require(nul == ref.dropped_nul, "dropped_nul counts NULs");

  // Cut differently: byte by byte gives the same pieces.
  uint64_t cr1 = 0, nul1 = 0;
  std::vector<Piece> bytewise = Split(msg, piece_size, 1, 0, &cr1, &nul1);
  Require(bytewise.size() == pieces.size() && cr1 == cr && nul1 == nul, "Feed boundaries do not matter");
  for (size_t i = 0; i < pieces.size(); ++i)
    Require(bytewise[i].text == pieces[i].text && bytewise[i].eol == pieces[i].eol,
            "Feed boundaries do not matter");

  // A sink that stops gets a prefix of the pieces, and nothing more (the
  // Sink itself aborts on a piece after a stop).
  if (stop_after != 0) {
    std::vector<Piece> stopped = Split(msg, piece_size, chunk, stop_after, &cr1, &nul1);
    Require(stopped.size() == std::min(stop_after, pieces.size()), "stopping keeps a prefix");
    for (size_t i = 0; i < stopped.size(); ++i)
      Require(stopped[i].text == pieces[i].text && stopped[i].eol == pieces[i].eol, "stopping keeps a prefix");
  }
}

bool RefHeaderStart(std::string_view line, size_t* name_size) {
  size_t i = 0;
  while (i < line.size()) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c < 33 || c > 126 || c == ':') break;
    ++i;
  }
  if (i == 0) return false;
  size_t n = i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == line.size() || line[i] != ':') return false;
  *name_size = n;
  return true;
}

void CheckHeaders(std::string_view msg) {
  // The header: the lines up to the first that neither starts a field nor
  // continues one.
  Reference ref = SplitReference(msg);
  std::vector<relay::HeaderField> fields;
  for (const std::string& line : ref.lines) {
    size_t n = 0, rn = 0;
    bool start = relay::IsHeaderStart(line, &n);
    Require(start == RefHeaderStart(line, &rn), "IsHeaderStart agrees with the reference");
    if (start) {
      Require(n == rn, "name_size agrees with the reference");
      fields.push_back({line, n});
    } else if (relay::IsContinuation(line) && !fields.empty()) {
      fields.back().text += "\n" + line;
    } else {
      break;
    }
  }
  for (const relay::HeaderField& f : fields) {
    Require(f.Is(f.name()), "a field is its own name");
    std::string lower(f.name());
    for (char& c : lower)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    Require(f.Is(lower), "names compare without case");
    std::string_view v = f.raw_value();
    size_t colon = f.text.find(':', f.name_size);
    Require(colon != std::string::npos && v == std::string_view(f.text).substr(colon + 1),
            "raw_value is what follows the colon");
    std::string u = f.Unfolded();
    Require(u.find_first_of("\r\n") == std::string::npos, "Unfolded has no line breaks");
    std::string expect;
    for (char c : v)
      if (c != '\n') expect.push_back(c);
    Require(u == expect, "Unfolded removes the folding and nothing else");
  }
}

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~ ").find(c) != std::string_view::npos;
}

std::string DecodeBase64(std::string_view in, bool* ok) {
  static const std::string_view kTab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  *ok = in.size() % 4 == 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=') {
      *ok = *ok && i + 2 >= in.size();
      break;
    }
    size_t d = kTab.find(in[i]);
    if (d == std::string_view::npos) {
      *ok = false;
      return out;
    }
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xFF));
    }
  }
  return out;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

void CheckDisplayName(std::string_view name) {
  std::string out = relay::EncodeDisplayName(name);
  for (char c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    Require(u >= 0x20 && u < 0x7f, "the encoded name is printable ASCII on one line");
  }
  bool ascii = true, atoms = true;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u < 0x20 || u == 0x7f) ascii = false;
    if (!IsAtext(c)) atoms = false;
  }
  if (ascii && atoms && (name.empty() || (name.front() != ' ' && name.back() != ' '))) {
    Require(out == name, "atoms are kept as they are");
    return;
  }
  if (ascii) {
    Require(out.size() >= 2 && out.front() == '"' && out.back() == '"', "a quoted string");
    std::string un;
    for (size_t i = 1; i + 1 < out.size(); ++i) {
      if (out[i] == '\\') {
        ++i;
        Require(i + 1 < out.size(), "an escape is followed by a character");
        Require(out[i] == '"' || out[i] == '\\', "only '\"' and '\\' are escaped");
      } else {
        Require(out[i] != '"', "no bare '\"' inside");
      }
      un.push_back(out[i]);
    }
    Require(un == name, "the quoted string unquotes to the name");
    return;
  }
  std::string decoded;
  bool utf8 = ValidUtf8(name);
  size_t pos = 0;
  for (;;) {
    size_t sp = out.find(' ', pos);
    std::string_view word = std::string_view(out).substr(pos, sp == std::string::npos ? sp : sp - pos);
    Require(word.size() <= 75, "encoded words are at most 75 characters");
    Require(word.size() > 12 && word.substr(0, 10) == "=?UTF-8?B?" && word.substr(word.size() - 2) == "?=",
            "an encoded word");
    bool ok = false;
    std::string part = DecodeBase64(word.substr(10, word.size() - 12), &ok);
    Require(ok, "valid base64");
    Require(!part.empty(), "no empty words");
    if (utf8) Require(ValidUtf8(part), "each word is whole UTF-8 characters");
    decoded += part;
    if (sp == std::string::npos) break;
    pos = sp + 1;
  }
  Require(decoded == name, "the encoded words decode to the name");
}

void CheckGecos(std::string_view gecos, std::string_view login) {
  std::string full = relay::FullNameFromGecos(gecos, login);
  if (login.find(',') == std::string_view::npos) Require(full.find(',') == std::string::npos, "up to the comma");
  Require(full.empty() || (full.front() != ' ' && full.back() != ' '), "trimmed");
  if (gecos.find('&') == std::string_view::npos && gecos.find(',') == std::string_view::npos)
    Require(full.size() <= gecos.size(), "nothing added without '&'");
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CheckDate(int64_t t, long gmtoff) {
  std::string s = relay::FormatRfc5322Date(static_cast<time_t>(t), gmtoff);
  char wday[4] = {0}, mon[4] = {0}, sign = 0;
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0, zone = 0, used = 0;
  int n = std::sscanf(s.c_str(), "%3[A-Za-z], %d %3[A-Za-z] %d %d:%d:%d %c%4d%n", wday, &day, mon, &year, &hh, &mm,
                      &ss, &sign, &zone, &used);
  Require(n == 9 && static_cast<size_t>(used) == s.size(), "the date has the RFC 5322 shape");
  Require(s[3] == ',' && s[s.size() - 5] == sign, "comma after the day name; four-digit zone");
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static const char* const kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  unsigned m = 0;
  while (m < 12 && std::string_view(kMonths[m]) != mon) ++m;
  Require(m < 12, "a month name");
  long off_min = gmtoff / 60;  // the zone is whole minutes, towards zero
  long want_zone = (off_min < 0 ? -off_min : off_min) / 60 * 100 + (off_min < 0 ? -off_min : off_min) % 60;
  Require(zone == want_zone && sign == (off_min < 0 ? '-' : '+'), "the zone is gmtoff");
  int64_t local = t + gmtoff;
  int64_t days = DaysFromCivil(year, m + 1, static_cast<unsigned>(day));
  Require(days * 86400 + hh * 3600 + mm * 60 + ss == local, "the date and time are t in the zone");
  int64_t wd = ((days % 7) + 7) % 7;
  Require(std::string_view(kDays[wd]) == wday, "the day of the week");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3 || size > 8192) return 0;
  const size_t piece_size = 1 + data[0] % 80;
  const size_t chunk = 1 + data[1];
  const size_t stop_after = data[2] % 8;
  std::string_view msg(reinterpret_cast<const char*>(data + 3), size - 3);

  CheckSplitter(msg, piece_size, chunk, stop_after);
  CheckHeaders(msg);

  std::string_view name = msg.substr(0, 300);
  CheckDisplayName(name);
  size_t colon = name.find(':');
  CheckGecos(name.substr(0, colon), colon == std::string_view::npos ? "" : name.substr(colon + 1, 16));

  // A time between the years 1 and 9999 and a zone within a day.
  if (size >= 3 + 12) {
    int64_t t = 0;
    int32_t off = 0;
    for (int i = 0; i < 8; ++i) t = (t << 8) | data[3 + i];
    for (int i = 0; i < 4; ++i) off = static_cast<int32_t>((static_cast<uint32_t>(off) << 8) | data[11 + i]);
    const int64_t lo = -62135596800 + 86400, hi = 253402300799 - 86400;
    t = lo + static_cast<int64_t>(static_cast<uint64_t>(t) % static_cast<uint64_t>(hi - lo));
    CheckDate(t, off % 86400);
  }
  return 0;
}
