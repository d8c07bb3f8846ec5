#include "relay/queue/run_status.h"

#include <charconv>

#include "relay/base/env.h"
#include "relay/base/strings.h"

namespace relay {
namespace {

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

std::string RunStatus::Encode() const {
  return "last_sent " + std::to_string(last_sent) + "\nlast_error_time " + std::to_string(last_error_time) +
         "\nlast_error " + OneLine(last_error) + "\n";
}

RunStatus RunStatus::Parse(std::string_view text) {
  RunStatus st;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::string_view key = NextWord(&line);
    if (key == "last_sent") WholeNumber(line, &st.last_sent);
    else if (key == "last_error_time") WholeNumber(line, &st.last_error_time);
    else if (key == "last_error") st.last_error = std::string(line);
  }
  return st;
}

void RunStatus::Merge(const RunStatus& newer) {
  if (newer.last_sent > last_sent) last_sent = newer.last_sent;
  if (newer.last_error_time > last_error_time) {
    last_error_time = newer.last_error_time;
    last_error = newer.last_error;
  }
}

RunStatus LoadRunStatus(const SpoolPaths& paths) {
  std::string text;
  if (!Env::Default()->ReadFile(paths.status_file(), &text, nullptr).ok()) return RunStatus();
  return RunStatus::Parse(text);
}

Status SaveRunStatus(const SpoolPaths& paths, const RunStatus& st) {
  return Env::Default()->WriteFileAtomic(paths.status_file(), st.Encode(), 0600);
}

std::vector<std::string> SmarthostPause::ToArgs() const {
  if (failures <= 0) return {};
  return {kFlag, std::to_string(failures), std::to_string(until)};
}

bool SmarthostPause::FromArgs(std::string_view failures, std::string_view until, SmarthostPause* pause) {
  SmarthostPause p;
  if (!WholeNumber(failures, &p.failures) || p.failures < 0 || !WholeNumber(until, &p.until)) return false;
  *pause = p;
  return true;
}

std::string RunReport::Encode() const {
  return "next " + std::to_string(next) + " hold " + std::to_string(pause.until) + " failures " +
         std::to_string(pause.failures) + " sent " + std::to_string(sent) + "\n";
}

bool RunReport::Parse(std::string_view text, RunReport* report) {
  std::string_view line = text.substr(0, text.find('\n'));
  RunReport r;
  if (NextWord(&line) != "next" || !WholeNumber(NextWord(&line), &r.next)) return false;
  if (NextWord(&line) != "hold" || !WholeNumber(NextWord(&line), &r.pause.until)) return false;
  if (NextWord(&line) != "failures" || !WholeNumber(NextWord(&line), &r.pause.failures)) return false;
  // Optional figures after the pause, KEY VALUE pairs: "sent", and any a
  // newer relay-deliver adds (skipped).
  while (!line.empty()) {
    std::string_view key = NextWord(&line), value = NextWord(&line);
    if (key.empty() || value.empty()) return false;
    if (key == "sent" && !WholeNumber(value, &r.sent)) return false;
  }
  *report = r;
  return true;
}

}  // namespace relay
