#include "users.h"

#include "processes.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace buildlock::chaos {
namespace {

using namespace std::chrono_literals;

std::string read_whole(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs an administration command (useradd, groupadd); its output, on failure, in the error.
void administer(const Users& users, std::vector<std::string> argv) {
  SpawnRequest request;
  request.argv = std::move(argv);
  request.stdout_path = users.reachable_dir + "/admin.out";
  request.stderr_path = users.reachable_dir + "/admin.err";
  std::filesystem::remove(request.stderr_path);
  const auto status = run_to_end(request, std::chrono::steady_clock::now() + 60s);
  if (!status || *status != 0) {
    throw ChaosError("`" + request.argv[0] + " " + request.argv.back() + "` failed (" +
                     (status ? describe_status(*status) : std::string("hung")) +
                     "): " + read_whole(request.stderr_path));
  }
}

void check(int result, const std::string& what) {
  if (result != 0) {
    throw ChaosError(what + ": " + std::strerror(errno));
  }
}

} // namespace

Users prepare_users(const std::vector<std::string>& names, const std::string& group_name,
                    std::vector<std::string>& programs) {
  if (::geteuid() != 0) {
    throw ChaosError("--users needs root (to create the users and to run workers as them)");
  }
  Users users;
  users.group_name = group_name;
  std::string pattern = "/tmp/buildlock-chaos-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw ChaosError("mkdtemp /tmp/buildlock-chaos-XXXXXX: " + std::string(std::strerror(errno)));
  }
  users.reachable_dir = pattern;
  check(::chmod(users.reachable_dir.c_str(), 0755), "chmod " + users.reachable_dir);

  // Another run of this test may create the same group or user at the same moment: a failed
  // groupadd/useradd is an error only if the name is still missing afterwards.
  if (::getgrnam(group_name.c_str()) == nullptr) {
    try {
      administer(users, {"groupadd", group_name});
    } catch (const ChaosError&) {
      if (::getgrnam(group_name.c_str()) == nullptr) {
        throw;
      }
    }
  }
  users.group = ::getgrnam(group_name.c_str())->gr_gid;
  for (const std::string& name : names) {
    if (::getpwnam(name.c_str()) == nullptr) {
      try {
        administer(users, {"useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--gid",
                           group_name, name});
      } catch (const ChaosError&) {
        if (::getpwnam(name.c_str()) == nullptr) {
          throw;
        }
      }
    }
    const passwd* entry = ::getpwnam(name.c_str());
    if (entry->pw_uid == 0) {
      throw ChaosError("--users: `" + name + "` is root; the test needs unprivileged users");
    }
    users.users.push_back({name, entry->pw_uid, users.group});
  }

  for (std::string& program : programs) {
    const std::string copy =
        users.reachable_dir + "/" + std::filesystem::path(program).filename().string();
    std::filesystem::copy_file(program, copy);
    check(::chmod(copy.c_str(), 0755), "chmod " + copy);
    program = copy;
  }
  return users;
}

void make_group_directory(const Users& users, const std::string& path) {
  std::filesystem::create_directories(path);
  check(::chown(path.c_str(), 0, users.group), "chown " + path);
  // chmod after chown: chown clears the set-group-ID bit.
  check(::chmod(path.c_str(), 02770), "chmod " + path);
}

void make_shared_file(const std::string& path) {
  std::ofstream(path, std::ios::app).close();
  check(::chmod(path.c_str(), 0666), "chmod " + path);
}

} // namespace buildlock::chaos
