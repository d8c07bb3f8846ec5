// The whole injector on arbitrary input, with -t: header block, recipient
// extraction, header completion, wire form. Whatever the input, it either
// fails cleanly or writes a queue file that parses back, whose content has
// only CRLF line ends, no bare CR or LF, no line over 1000 octets, no lone
// "." line, and whose recipients passed the envelope checks.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "relay/message/address.h"
#include "relay/inject/inject.h"

namespace {

std::string Dir() {
  static std::string dir = [] {
    char t[] = "/tmp/relay-inject-fuzz.XXXXXX";
    std::string d = mkdtemp(t);
    relay::CreatePrivateSpool(relay::Env::Default(), relay::SpoolPaths(d));
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 65536) return 0;
  relay::SpoolPaths paths(Dir());
  relay::Options opts;
  std::vector<std::string> argv = {"sendmail", "-t"};
  if (data[0] & 1) argv.push_back("-i");
  if (!relay::ParseArgs(argv, &opts).ok()) return 0;
  relay::InjectParams p;
  p.opts = opts;
  p.domain = "example.com";
  p.hostname = "host.example.com";
  p.local = {"example.com", {"localhost"}};
  p.submitter = {1000, "alice", "Alice"};
  p.now_micros = 1795548364000000;
  p.queue_id = "6610AAE723F5700TMGJ";
  p.msgid_nonce = "N";
  relay::QueueWriter w(relay::Env::Default(), paths);
  relay::Injector inj(p, &w);
  if (!inj.Start().ok()) return 0;
  bool exists = false;
  if (!w.Begin(p.queue_id, 0600, &exists).ok()) __builtin_trap();
  size_t chunk = 1 + data[0] % 61;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t i = 0; i < in.size(); i += chunk)
    if (!inj.Feed(in.substr(i, chunk))) break;
  if (!inj.Finish().ok()) {
    w.Abort();
    return 0;
  }
  if (!w.Commit().ok()) __builtin_trap();
  std::string path = paths.queue_file(p.queue_id);
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string file = ss.str();
  unlink(path.c_str());
  relay::Envelope env;
  size_t head = 0;
  bool incomplete = false;
  if (!relay::ParseHead(file, &env, &head, &incomplete).ok()) __builtin_trap();
  for (const relay::Recipient& r : env.recipients)
    if (!relay::CheckEnvelopeAddress(r.address).ok()) __builtin_trap();
  std::string_view content = std::string_view(file).substr(head);
  content = content.substr(0, content.rfind("end "));
  size_t line_start = 0;
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r' && (i + 1 >= content.size() || content[i + 1] != '\n')) __builtin_trap();
    if (content[i] == '\n') {
      if (i == 0 || content[i - 1] != '\r') __builtin_trap();
      std::string_view line = content.substr(line_start, i - 1 - line_start);
      if (line.size() > 998 || line == ".") __builtin_trap();
      line_start = i + 1;
    }
  }
  if (line_start != content.size()) __builtin_trap();
  return 0;
}
