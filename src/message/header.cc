#include "relay/message/header.h"

#include <cstdio>

#include "relay/base/strings.h"

namespace relay {

std::string_view HeaderField::raw_value() const {
  std::string_view t = text;
  size_t colon = t.find(':', name_size);
  return colon == std::string_view::npos ? std::string_view() : t.substr(colon + 1);
}

std::string HeaderField::Unfolded() const {
  std::string out;
  for (char c : raw_value())
    if (c != '\n' && c != '\r') out.push_back(c);
  return out;
}

bool HeaderField::Is(std::string_view n) const { return EqualsIgnoreCase(name(), n); }

bool IsHeaderStart(std::string_view line, size_t* name_size) {
  size_t i = 0;
  while (i < line.size() && line[i] >= 33 && line[i] <= 126 && line[i] != ':') ++i;
  if (i == 0) return false;
  size_t n = i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size() || line[i] != ':') return false;
  *name_size = n;
  return true;
}

std::string FormatRfc5322Date(time_t t, long gmtoff) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t local = t + gmtoff;
  struct tm tm;
  gmtime_r(&local, &tm);
  long off = gmtoff / 60;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec, sign, off / 60, off % 60);
  return buf;
}

namespace {

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~ ").find(c) != std::string_view::npos;
}

std::string Base64(std::string_view in) {
  static const char kTab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += kTab[v >> 18];
    out += kTab[(v >> 12) & 63];
    out += kTab[(v >> 6) & 63];
    out += kTab[v & 63];
  }
  if (i < in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    if (i + 1 < in.size()) v |= (unsigned char)in[i + 1] << 8;
    out += kTab[v >> 18];
    out += kTab[(v >> 12) & 63];
    out += i + 1 < in.size() ? kTab[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::string EncodeDisplayName(std::string_view name) {
  bool ascii = true, atoms = true;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u < 0x20 || u == 0x7f) ascii = false;
    if (!IsAtext(c)) atoms = false;
  }
  if (ascii && atoms && Trim(name) == name) return std::string(name);
  if (ascii) {
    std::string out = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  // Encoded words of at most 75 characters: 12 for "=?UTF-8?B?" and "?=",
  // leaving 63 of base64, i.e. 45 bytes of name, cut only between UTF-8
  // characters so each word decodes on its own.
  std::string out;
  size_t i = 0;
  while (i < name.size()) {
    size_t n = std::min<size_t>(45, name.size() - i);
    while (n > 0 && i + n < name.size() &&
           (static_cast<unsigned char>(name[i + n]) & 0xC0) == 0x80)
      --n;
    if (n == 0) n = std::min<size_t>(45, name.size() - i);
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + Base64(name.substr(i, n)) + "?=";
    i += n;
  }
  return out;
}

std::string FullNameFromGecos(std::string_view gecos, std::string_view login) {
  gecos = gecos.substr(0, gecos.find(','));
  std::string out;
  for (char c : gecos) {
    if (c == '&') {
      std::string cap(login);
      if (!cap.empty() && cap[0] >= 'a' && cap[0] <= 'z') cap[0] = static_cast<char>(cap[0] - 32);
      out += cap;
    } else {
      out += c;
    }
  }
  return std::string(Trim(out));
}

}  // namespace relay
