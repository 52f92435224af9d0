// The test support's own traps. A reader of the files the processes of a test pass each other
// (written under a temporary name, then renamed) may open one in the moment between the
// writer's rename and the writer closing the handle that renamed it.
#include "support/windows_process.h"

#include <gtest/gtest.h>

namespace buildlock::windows_test {
namespace {

// MoveFileExW renames through a handle open for DELETE, closed only after the rename: a reader
// that does not share delete fails there with a sharing violation (the C runtime's fopen), and a
// tree read no exit status and exited 0 (Run.PassesTheCommandsExitStatusOnAndReleases, about one
// run in 150 under load). The same moment, held open.
TEST(Support, ReadsAFileThatTheWritersRenameStillHoldsOpen) {
  TestDirectory dir;
  write_file(dir.file("finish"), "7");
  const HANDLE renaming = CreateFileA(dir.file("finish").c_str(), DELETE | SYNCHRONIZE,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                      nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_NE(renaming, INVALID_HANDLE_VALUE) << GetLastError();
  EXPECT_EQ(read_file(dir.file("finish")), "7");
  CloseHandle(renaming);
}

} // namespace
} // namespace buildlock::windows_test
