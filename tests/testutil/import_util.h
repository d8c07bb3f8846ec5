// Helpers shared by tests/admin/import_test.cc and import_oauth_test.cc:
// running relayctl import's core on texts or fixture files.
#ifndef RELAY_TESTUTIL_IMPORT_UTIL_H_
#define RELAY_TESTUTIL_IMPORT_UTIL_H_

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "relay/admin/import.h"
#include "relay/base/config.h"
#include "relay/base/env.h"

namespace relay {

inline std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += "  " + s + "\n";
  return out;
}

inline bool HasWarning(const ImportResult& r, const std::string& part) {
  for (const std::string& w : r.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

// Texts given directly: one file each, as the peer names it; the result
// must parse as relay.conf (into *cfg when given).
inline Status ImportText(ImportKind kind, std::map<std::string, std::string> files, ImportResult* r,
                         Config* cfg = nullptr) {
  ImportSource src;
  src.kind = kind;
  src.files = std::move(files);
  Status s = ImportConfig(src, ImportOptions(), r);
  if (!s.ok()) return s;
  Config local;
  Status ps = ParseConfig(r->relay_conf, "imported", cfg ? cfg : &local);
  EXPECT_TRUE(ps.ok()) << ps.message() << "\n" << r->relay_conf;
  return s;
}

// A fixture file (or directory) read as relayctl import reads it.
inline Status ImportFile(const std::string& path, ImportResult* r, ImportKind forced = ImportKind::kAuto) {
  ImportSource src;
  Status s = ReadImportSource(Env::Default(), path, forced, &src);
  if (!s.ok()) return s;
  return ImportConfig(src, ImportOptions(), r);
}

}  // namespace relay

#endif  // RELAY_TESTUTIL_IMPORT_UTIL_H_
