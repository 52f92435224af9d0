// Where the programs under test are: fixed at build time by tests/integration/CMakeLists.txt.
#pragma once

#include <string>

namespace buildlock::test {

// The buildlock executable built from this tree.
const std::string& buildlock_binary();

// helpers/scripted_command.cpp: a COMMAND that runs the steps it is given (notify, wait, trap,
// exit, raise, ...), so that a test knows exactly when it runs and decides when it ends.
const std::string& scripted_command_binary();

// helpers/critical_section.cpp: a COMMAND that records every entry and detects overlaps.
const std::string& critical_section_binary();

// helpers/group_section.cpp: a COMMAND that checks shared and slotted holds from inside.
const std::string& group_section_binary();

// helpers/main_thread_exit.cpp: a process whose main thread calls pthread_exit() while another
// thread runs the steps it is given (trap, notify, wait).
const std::string& main_thread_exit_binary();

// tests/make_tls_files.sh: the certificates of an etcd with TLS (a script the etcd benchmark's
// tests/with_etcd.sh runs too).
const std::string& make_tls_files_script();

} // namespace buildlock::test
