// PseudoTerminal: a terminal for a job, so that a test can press Ctrl+C for real.
//
// The kernel, not a process, then sends SIGINT to every process in the terminal's foreground
// process group, exactly as at an interactive shell (si_code SI_KERNEL, not SI_USER).
#pragma once

#include <string>

namespace buildlock::test {

class PseudoTerminal {
public:
  PseudoTerminal();
  ~PseudoTerminal();
  PseudoTerminal(const PseudoTerminal&) = delete;
  PseudoTerminal& operator=(const PseudoTerminal&) = delete;

  // For Command::controlling_terminal().
  const std::string& slave_path() const { return slave_path_; }
  // Types the interrupt character (Ctrl+C) on the terminal.
  void press_ctrl_c();

private:
  int master_fd_ = -1;
  std::string slave_path_;
};

} // namespace buildlock::test
