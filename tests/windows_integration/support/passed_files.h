// The files the processes of a Windows test pass each other (a pid, "ready", an exit status):
// written whole under a temporary name and renamed, read sharing everything. One copy for the
// test program and for tree_command.exe, which read each other's files.
#pragma once

#include <string>

namespace buildlock::windows_test {

bool file_exists(const std::string& path);
// Written under a temporary name and renamed, so that a reader never sees it half-written.
void write_file(const std::string& path, const std::string& text);
// The whole file, or "" if it cannot be opened. Opened as buildlock opens files, sharing
// everything: the C runtime's fopen does not share delete, so it fails with a sharing violation
// while the writer's MoveFileExW still holds the file it has just renamed open for DELETE, and a
// reader that had seen the name appear read nothing (a tree that exited 0 instead of its status).
std::string read_file(const std::string& path);

} // namespace buildlock::windows_test
