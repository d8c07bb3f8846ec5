#include "relay/message/downgrade.h"

#include <vector>

#include "relay/message/header.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

constexpr size_t kQpLine = 76;  // RFC 2045 6.7 (5)

// The header fields in a wire-form header block, unfolded by name/value.
std::vector<std::pair<std::string, std::string>> Fields(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view line : Split(header, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    size_t name_size = 0;
    if (IsContinuation(line) && !out.empty()) {
      out.back().second += std::string(line);
    } else if (IsHeaderStart(line, &name_size)) {
      size_t colon = line.find(':', name_size);
      out.push_back({ToLower(line.substr(0, name_size)), std::string(line.substr(colon + 1))});
    }
  }
  return out;
}

}  // namespace

bool CanDowngrade(std::string_view header) {
  for (char c : header)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  for (const auto& [name, value] : Fields(header)) {
    std::string v = ToLower(Trim(value));
    if (name == "content-type") {
      std::string type(Trim(v.substr(0, v.find(';'))));
      if (type.substr(0, 5) != "text/") return false;
    } else if (name == "content-transfer-encoding") {
      if (v != "7bit" && v != "8bit") return false;
    }
  }
  return true;
}

void Downgrader::Feed(std::string_view data, std::string* out) {
  for (;;) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      pending_.append(data);
      return;
    }
    pending_.append(data.substr(0, nl + 1));
    data.remove_prefix(nl + 1);
    std::string_view line = pending_;
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Line(line, out);
    pending_.clear();
  }
}

void Downgrader::Finish(std::string* out) {
  if (!pending_.empty()) Line(pending_, out);
  pending_.clear();
}

void Downgrader::Line(std::string_view line, std::string* out) {
  if (!in_header_) return EncodeBodyLine(line, out);
  if (line.empty()) {
    // End of the header: declare the new encoding.
    if (!have_mime_version_) out->append("MIME-Version: 1.0\r\n");
    out->append("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    in_header_ = false;
    return;
  }
  size_t name_size = 0;
  if (IsHeaderStart(line, &name_size)) {
    std::string name = ToLower(line.substr(0, name_size));
    skipping_ = name == "content-transfer-encoding";
    if (name == "mime-version") have_mime_version_ = true;
  } else if (!IsContinuation(line)) {
    skipping_ = false;
  }
  if (skipping_) return;  // the old Content-Transfer-Encoding, folds too
  out->append(line);
  out->append("\r\n");
}

void Downgrader::EncodeBodyLine(std::string_view line, std::string* out) {
  static const char kHex[] = "0123456789ABCDEF";
  // The input is dot-stuffed: undo that before encoding, redo it after.
  if (line.size() >= 2 && line[0] == '.' && line[1] == '.') line.remove_prefix(1);
  std::string cur;
  auto flush = [&](bool soft) {
    if (!cur.empty() && cur[0] == '.') out->push_back('.');
    out->append(cur);
    out->append(soft ? "=\r\n" : "\r\n");
    cur.clear();
  };
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    bool last = i + 1 == line.size();
    std::string enc;
    if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
      enc.assign(1, static_cast<char>(c));
    } else {
      enc = {'=', kHex[c >> 4], kHex[c & 15]};
    }
    // Keep room for the soft break's '='.
    if (cur.size() + enc.size() > kQpLine - 1) flush(true);
    cur += enc;
  }
  flush(false);
}

}  // namespace relay
