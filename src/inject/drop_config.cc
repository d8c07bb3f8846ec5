// The one relay.conf key sendmail's privileged part reads (drop.h), with
// the spool group: counted with drop.cc as code that runs privileged.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "relay/inject/drop.h"

namespace relay {

// spool_dir as ParseConfig reads it: the value of its last line. Each
// request names the parent's spool_dir, refused unless it is this one.
bool ReadDropSpoolDir(const char* config, char* spool, size_t size) {
  std::snprintf(spool, size, "/var/spool/relay");
  FILE* f = std::fopen(config, "re");
  char line[4096];
  while (f && std::fgets(line, sizeof line, f)) {
    char* p = line + std::strspn(line, " \t");
    if (std::strncmp(p, "spool_dir", 9) != 0 || *(p += 9 + std::strspn(p + 9, " \t")) != '=') continue;
    p += 1 + std::strspn(p + 1, " \t");
    size_t n = std::strlen(p);
    while (n > 0 && std::strchr(" \t\r\n", p[n - 1])) --n;
    if (n > 0) std::snprintf(spool, size, "%.*s", static_cast<int>(n), p);
  }
  return f ? std::fclose(f) == 0 : errno == ENOENT;
}

}  // namespace relay
