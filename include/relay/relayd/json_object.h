// One flat JSON object, written for a program to read (alert_command's
// stdin). Output only: relayd links no JSON library. Every byte of a
// string value is encoded correctly: '"' and '\' escaped, control bytes
// as \n, \t, ... or \u00XX, DEL as \u007f, valid UTF-8 kept as it is, and
// each byte of an invalid sequence (a stray continuation byte, an overlong
// form, a surrogate, a code point above U+10FFFF, a sequence cut short) as
// \ufffd. Keys are written the same way.
#ifndef RELAY_RELAYD_JSON_OBJECT_H_
#define RELAY_RELAYD_JSON_OBJECT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace relay {

// s as a JSON string, quotes included.
std::string JsonQuote(std::string_view s);

class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, const char* value) { return Add(key, std::string_view(value)); }
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& AddBool(std::string_view key, bool value);
  // The object, "{...}", with no newline.
  std::string Text() const { return "{" + body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_;
};

}  // namespace relay

#endif  // RELAY_RELAYD_JSON_OBJECT_H_
