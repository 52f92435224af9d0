// tree_command.exe: a command that is a tree of processes, for the tests of buildlock.exe on
// Windows. Synchronises with the test through files in DIR only.
//
//   tree_command.exe tree DIR [stubborn]  starts `tree_command.exe leaf DIR [stubborn]`, waits
//       until the leaf has written DIR\leaf.pid, writes DIR\parent.pid, then DIR\ready; exits
//       when DIR\finish appears, with the number written in it as its exit status (92 if it
//       cannot read it). Ctrl+C and Ctrl+Break end it with STATUS_CONTROL_C_EXIT, as Windows'
//       default handler does.
//   tree_command.exe leaf DIR [stubborn]  writes DIR\leaf.pid and runs until killed; `stubborn`
//       ignores Ctrl+C and Ctrl+Break, so only a kill ends it.
//   tree_command.exe exit N               exits with status N at once.
//   tree_command.exe env FILE NAME        writes the value of environment variable NAME to FILE.
//   tree_command.exe args FILE ARG...     writes each ARG to FILE as "<length>:<bytes>\n", exactly
//       as the C runtime parsed the command line.
#include "support/passed_files.h"

#include <cstdlib>
#include <string>
#include <windows.h>

namespace {

using buildlock::windows_test::file_exists;
using buildlock::windows_test::read_file;
using buildlock::windows_test::write_file;

BOOL WINAPI ignore_event(DWORD) {
  return TRUE;
}

// What Windows' default handler does on Ctrl+C and Ctrl+Break, written out because Wine 8's
// default handler exits with status 0 instead.
BOOL WINAPI exit_as_interrupted(DWORD) {
  ExitProcess(0xC000013A); // STATUS_CONTROL_C_EXIT
}

std::string path_in(const std::string& dir, const char* name) {
  return dir + "\\" + name;
}

int run_leaf(const std::string& dir, bool stubborn) {
  if (stubborn) {
    SetConsoleCtrlHandler(ignore_event, TRUE);
  }
  write_file(path_in(dir, "leaf.pid"), std::to_string(GetCurrentProcessId()));
  Sleep(INFINITE);
  return 0;
}

int run_tree(const std::string& dir, bool stubborn) {
  SetConsoleCtrlHandler(exit_as_interrupted, TRUE);
  char self[MAX_PATH] = {};
  GetModuleFileNameA(nullptr, self, MAX_PATH);
  std::string command = std::string("\"") + self + "\" leaf \"" + dir + "\"";
  if (stubborn) {
    command += " stubborn";
  }
  STARTUPINFOA startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION leaf{};
  if (!CreateProcessA(nullptr, command.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr,
                      &startup, &leaf)) {
    return 90;
  }
  CloseHandle(leaf.hThread);
  CloseHandle(leaf.hProcess); // the leaf is left to whoever stops the tree
  while (!file_exists(path_in(dir, "leaf.pid"))) {
    Sleep(5);
  }
  write_file(path_in(dir, "parent.pid"), std::to_string(GetCurrentProcessId()));
  write_file(path_in(dir, "ready"), "");
  const std::string finish = path_in(dir, "finish");
  while (!file_exists(finish)) {
    Sleep(5);
  }
  const std::string status = read_file(finish);
  return status.empty() ? 92 : std::stoi(status);
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool stubborn = argc > 3 && std::string(argv[3]) == "stubborn";
  if (mode == "tree" && argc > 2) {
    return run_tree(argv[2], stubborn);
  }
  if (mode == "leaf" && argc > 2) {
    return run_leaf(argv[2], stubborn);
  }
  if (mode == "args" && argc > 2) {
    std::string text;
    for (int i = 3; i < argc; ++i) {
      text += std::to_string(std::string(argv[i]).size()) + ":" + argv[i] + "\n";
    }
    write_file(argv[2], text);
    return 0;
  }
  if (mode == "env" && argc > 3) {
    const char* value = std::getenv(argv[3]);
    write_file(argv[2], value != nullptr ? value : "(unset)");
    return 0;
  }
  if (mode == "exit" && argc > 2) {
    return std::stoi(argv[2]);
  }
  return 91;
}
