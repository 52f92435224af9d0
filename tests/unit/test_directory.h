// TestDirectory: a private directory for one test case, removed when the test passes and kept
// (its path printed) when it fails, so that the files a failing case left can be inspected.
#pragma once

#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <random>
#include <string>

namespace buildlock::test {

class TestDirectory {
public:
  // Under $TMPDIR (else /tmp; on Windows %TMP%), created anew like mkdtemp() does: a name
  // that exists already is never reused.
  TestDirectory() {
    std::error_code error;
    const auto base = std::filesystem::temp_directory_path(error);
    std::random_device random;
    for (int attempt = 0; attempt < 100 && path_.empty(); ++attempt) {
      const auto candidate = base / ("buildlock-unit-" + std::to_string(random()));
      if (std::filesystem::create_directory(candidate, error)) {
        path_ = candidate.string();
      }
    }
    if (path_.empty()) {
      ADD_FAILURE() << "cannot create a directory in " << base << ": " << error.message();
    }
  }
  ~TestDirectory() {
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "kept test directory %s\n", path_.c_str());
      return;
    }
    std::error_code error;
    std::filesystem::remove_all(path_, error);
    if (error) {
      std::fprintf(stderr, "note: the test directory %s is left behind: %s\n", path_.c_str(),
                   error.message().c_str());
    }
  }
  TestDirectory(const TestDirectory&) = delete;
  TestDirectory& operator=(const TestDirectory&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

} // namespace buildlock::test
