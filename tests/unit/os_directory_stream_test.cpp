// os/posix/directory_stream: the one directory scan of the posix/ files (list_directory, the
// /proc scans of process_tree.cpp, detached_process.cpp and open_files.cpp): every entry but "."
// and "..", why a directory could not be opened, and no descriptor left open however a scan ends.
#include "os/posix/directory_stream.h"
#include "test_directory.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace buildlock::os {
namespace {

std::vector<std::string> sorted_entries(DirectoryStream& directory) {
  std::vector<std::string> names;
  while (auto name = directory.next()) {
    names.push_back(std::move(*name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The descriptors this process has open, counted without opendir().
std::size_t open_descriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

TEST(DirectoryStream, YieldsEveryEntryOnceWithoutDotAndDotDot) {
  test::TestDirectory directory;
  std::ofstream(directory / "a.lock") << "a";
  std::ofstream(directory / ".hidden") << "h";
  std::ofstream(directory / "..a") << "dots";
  std::filesystem::create_directory(directory / "sub");
  DirectoryStream stream(directory.path());
  ASSERT_TRUE(stream.is_open());
  EXPECT_EQ(stream.open_error(), 0);
  EXPECT_EQ(sorted_entries(stream), (std::vector<std::string>{"..a", ".hidden", "a.lock", "sub"}));
  EXPECT_EQ(stream.read_error(), 0);
  EXPECT_EQ(stream.next(), std::nullopt) << "the end stays the end";
}

TEST(DirectoryStream, AnEmptyDirectoryYieldsNothing) {
  test::TestDirectory directory;
  DirectoryStream stream(directory.path());
  ASSERT_TRUE(stream.is_open());
  EXPECT_EQ(stream.next(), std::nullopt);
  EXPECT_EQ(stream.read_error(), 0);
}

// What callers tell apart: a directory that is gone (a process that ended while /proc was
// scanned: ENOENT) from one that is not a directory, and list_directory reports either errno.
TEST(DirectoryStream, SaysWhyADirectoryCannotBeOpenedAndYieldsNothing) {
  test::TestDirectory directory;
  DirectoryStream missing(directory / "missing");
  EXPECT_FALSE(missing.is_open());
  EXPECT_EQ(missing.open_error(), ENOENT);
  EXPECT_EQ(missing.next(), std::nullopt);
  EXPECT_EQ(missing.read_error(), 0);

  std::ofstream(directory / "file") << "not a directory";
  DirectoryStream file(directory / "file");
  EXPECT_FALSE(file.is_open());
  EXPECT_EQ(file.open_error(), ENOTDIR);
  EXPECT_EQ(file.next(), std::nullopt);
}

// A scan that stops at its first match (find_marked_process) closes the directory too.
TEST(DirectoryStream, ClosesTheDirectoryHoweverTheScanEnds) {
  test::TestDirectory directory;
  std::ofstream(directory / "a") << "a";
  std::ofstream(directory / "b") << "b";
  const std::size_t before = open_descriptors();
  {
    DirectoryStream stream(directory.path());
    ASSERT_TRUE(stream.is_open());
    EXPECT_EQ(open_descriptors(), before + 1);
    EXPECT_TRUE(stream.next());
  }
  EXPECT_EQ(open_descriptors(), before);
  { const DirectoryStream missing(directory / "missing"); }
  EXPECT_EQ(open_descriptors(), before);
}

TEST(ProcessDirectory, FindsThisProcessInTheRealProc) {
  ProcessDirectory proc;
  ASSERT_TRUE(proc.is_open()) << "no /proc";
  std::vector<std::int64_t> pids;
  while (const auto pid = proc.next_pid()) {
    pids.push_back(*pid);
  }
  EXPECT_TRUE(std::all_of(pids.begin(), pids.end(), [](std::int64_t pid) { return pid > 0; }));
  EXPECT_NE(std::find(pids.begin(), pids.end(), ::getpid()), pids.end()) << "this process";
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(std::adjacent_find(pids.begin(), pids.end()), pids.end()) << "a pid twice";
}

// /proc's other entries (self, thread-self, sys, meminfo...) are no processes, nor is anything
// that is not a pid in full.
TEST(ProcessDirectory, YieldsOnlyTheEntriesThatAreProcesses) {
  test::TestDirectory proc;
  for (const char* name : {"1", "4194304", "self", "thread-self", "meminfo", "12a", "-3", "+5", "0",
                           "99999999999999999999999"}) {
    std::filesystem::create_directory(proc / name);
  }
  ProcessDirectory processes(proc.path());
  ASSERT_TRUE(processes.is_open());
  std::vector<std::int64_t> pids;
  while (const auto pid = processes.next_pid()) {
    pids.push_back(*pid);
  }
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(pids, (std::vector<std::int64_t>{1, 4194304}));
}

TEST(ProcessDirectory, YieldsNothingWithoutAProcDirectory) {
  test::TestDirectory directory;
  ProcessDirectory processes(directory / "proc");
  EXPECT_FALSE(processes.is_open());
  EXPECT_EQ(processes.next_pid(), std::nullopt);
}

} // namespace
} // namespace buildlock::os
