#include "support/pseudo_terminal.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <termios.h>
#include <unistd.h>

namespace buildlock::test {

PseudoTerminal::PseudoTerminal() {
  master_fd_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master_fd_ < 0 || ::grantpt(master_fd_) != 0 || ::unlockpt(master_fd_) != 0) {
    throw std::runtime_error(std::string("cannot open a pseudo-terminal: ") + std::strerror(errno));
  }
  char name[128];
  if (::ptsname_r(master_fd_, name, sizeof name) != 0) {
    throw std::runtime_error(std::string("ptsname_r: ") + std::strerror(errno));
  }
  slave_path_ = name;
}

PseudoTerminal::~PseudoTerminal() {
  if (master_fd_ >= 0) {
    ::close(master_fd_);
  }
}

void PseudoTerminal::press_ctrl_c() {
  const char interrupt = 0x03; // VINTR of a fresh terminal; ISIG is on by default
  if (::write(master_fd_, &interrupt, 1) != 1) {
    throw std::runtime_error(std::string("write to pseudo-terminal: ") + std::strerror(errno));
  }
}

} // namespace buildlock::test
