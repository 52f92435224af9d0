#include "hang_report.h"

#include "processes.h"

#include <fstream>
#include <sstream>

namespace buildlock::chaos {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// The value of a "Name:\tvalue" line of /proc/PID/status.
std::string status_field(const std::string& status, const std::string& name) {
  const auto at = status.find("\n" + name + ":");
  if (at == std::string::npos) {
    return "?";
  }
  const auto begin = status.find_first_not_of(" \t", at + name.size() + 2);
  const auto end = status.find('\n', begin);
  return begin == std::string::npos ? "?" : status.substr(begin, end - begin);
}

std::string describe(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  const std::string stat = read_all(dir + "/stat");
  const auto name_end = stat.rfind(')');
  if (name_end == std::string::npos) {
    return "  " + std::to_string(pid) + " gone\n";
  }
  // After the name: state, parent, process group, session.
  std::istringstream fields(stat.substr(name_end + 2));
  std::string state, parent, group, session;
  fields >> state >> parent >> group >> session;
  const std::string status = "\n" + read_all(dir + "/status");
  std::string command = read_all(dir + "/cmdline");
  for (char& c : command) {
    c = c == '\0' ? ' ' : c;
  }
  if (command.size() > 160) {
    command = command.substr(0, 160) + "...";
  }
  return "  " + std::to_string(pid) + " ppid " + parent + " pgid " + group + " sid " + session +
         " state " + state + " wchan " + read_all(dir + "/wchan") + " pending " +
         status_field(status, "SigPnd") + "/" + status_field(status, "ShdPnd") + " blocked " +
         status_field(status, "SigBlk") + ": " + command + "\n";
}

} // namespace

std::string describe_process_tree(pid_t wrapper) {
  std::string text = describe(wrapper);
  for (const Descendant& descendant : descendants_of(wrapper)) {
    text += describe(descendant.pid);
  }
  return text;
}

} // namespace buildlock::chaos
