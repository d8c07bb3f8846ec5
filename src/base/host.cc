#include "relay/base/host.h"

#include <unistd.h>

#include <cstdio>

#include "relay/base/strings.h"

namespace relay {

std::string FqdnFromHosts(std::string_view hosts_text, std::string_view short_name) {
  std::string prefix = std::string(short_name) + ".";
  for (std::string_view line : Split(hosts_text, '\n')) {
    line = line.substr(0, line.find('#'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string_view> names;
    for (std::string_view w : Split(line, ' '))
      for (std::string_view x : Split(w, '\t'))
        if (!x.empty()) names.push_back(x);
    if (names.size() < 2) continue;  // an address and at least one name
    bool mentions = false;
    for (size_t i = 1; i < names.size(); ++i)
      if (EqualsIgnoreCase(names[i], short_name) || StartsWithIgnoreCase(names[i], prefix))
        mentions = true;
    if (!mentions) continue;
    for (size_t i = 1; i < names.size(); ++i)
      if (StartsWithIgnoreCase(names[i], prefix) && names[i].size() > prefix.size())
        return std::string(names[i]);
  }
  return "";
}

HostNames GetHostNames(Env* env) {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') std::snprintf(buf, sizeof buf, "localhost");
  std::string name = buf;
  HostNames h;
  size_t dot = name.find('.');
  h.short_name = name.substr(0, dot);
  if (dot != std::string::npos) {
    h.fqdn = name;
    return h;
  }
  std::string hosts;
  if (env->ReadFile("/etc/hosts", &hosts, nullptr).ok()) h.fqdn = FqdnFromHosts(hosts, h.short_name);
  if (h.fqdn.empty()) h.fqdn = h.short_name;
  return h;
}

std::string DefaultDomain(Env* env, const HostNames& host) {
  std::string text;
  if (env->ReadFile("/etc/mailname", &text, nullptr).ok()) {
    std::string_view first = Trim(text.substr(0, text.find('\n')));
    if (!first.empty()) return std::string(first);
  }
  return host.fqdn;
}

std::string MailDomain(Env* env, const std::string& configured, const HostNames& host) {
  return configured.empty() ? DefaultDomain(env, host) : configured;
}

}  // namespace relay
