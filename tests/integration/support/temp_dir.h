// TempDir: a private directory for one test case.
//
// Created under $TMPDIR (else /tmp) with the test's name in it. Removed when the test passed;
// kept, with its path printed, when it failed, so the lock directory, the captured output of
// every process and any log can be looked at afterwards.
#pragma once

#include <string>
#include <string_view>

namespace buildlock::test {

class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string operator/(std::string_view name) const;

  // The TempDir of the running test, if it made one: Process puts its output files there.
  static const TempDir* current();

private:
  std::string path_;
  const TempDir* previous_;
};

} // namespace buildlock::test
