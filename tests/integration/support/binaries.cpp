#include "support/binaries.h"

namespace buildlock::test {

const std::string& buildlock_binary() {
  static const std::string path = BUILDLOCK_BINARY;
  return path;
}

const std::string& scripted_command_binary() {
  static const std::string path = SCRIPTED_COMMAND_BINARY;
  return path;
}

const std::string& critical_section_binary() {
  static const std::string path = CRITICAL_SECTION_BINARY;
  return path;
}

const std::string& group_section_binary() {
  static const std::string path = GROUP_SECTION_BINARY;
  return path;
}

const std::string& main_thread_exit_binary() {
  static const std::string path = MAIN_THREAD_EXIT_BINARY;
  return path;
}

const std::string& make_tls_files_script() {
  static const std::string path = MAKE_TLS_FILES_SCRIPT;
  return path;
}

} // namespace buildlock::test
