// A temporary directory for a test, removed with everything in it.
#ifndef RELAY_TESTS_TEMP_DIR_H_
#define RELAY_TESTS_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <string>
#include <vector>

namespace relay::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/relay-test.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  // Names of the entries in a subdirectory, sorted.
  std::vector<std::string> List(const std::string& sub) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(path_ + "/" + sub, ec))
      out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

}  // namespace relay::testing

#endif  // RELAY_TESTS_TEMP_DIR_H_
