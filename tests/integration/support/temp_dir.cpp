#include "support/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <iostream>
#include <stdexcept>
#include <system_error>

namespace buildlock::test {
namespace {

const TempDir* g_current = nullptr;

// "Suite.Name/Param" as a file-name fragment.
std::string test_name_fragment() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info == nullptr ? std::string("no-test")
                                     : std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!plain) {
      c = '_';
    }
  }
  return name.substr(0, 120);
}

} // namespace

TempDir::TempDir() : previous_(g_current) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/buildlock-it-" + test_name_fragment() + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + " failed");
  }
  path_ = pattern;
  g_current = this;
}

TempDir::~TempDir() {
  g_current = previous_;
  if (::testing::Test::HasFailure()) {
    std::cerr << "[ kept     ] " << path_ << "\n";
    return;
  }
  std::error_code ignored;
  // Tests may leave read-only entries behind on purpose; the owner can still remove them.
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ignored);
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::operator/(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

const TempDir* TempDir::current() {
  return g_current;
}

} // namespace buildlock::test
