#include "support/another_host.h"

#include "support/lock_files.h"
#include "support/process.h"

namespace buildlock::test {

AnotherHost another_host(const std::string& work_dir) {
  const std::string boot_id = work_dir + "/other-boot-id";
  write_file(boot_id, other_boot_id() + "\n");
  AnotherHost host;
  host.prefix = {"unshare",
                 "--mount",
                 "--propagation",
                 "private",
                 "sh",
                 "-c",
                 R"(mount --bind "$0" /proc/sys/kernel/random/boot_id && exec "$@")",
                 boot_id};
  std::vector<std::string> probe_argv = host.prefix;
  probe_argv.insert(probe_argv.end(), {"cat", "/proc/sys/kernel/random/boot_id"});
  Finished probe = run(Command(probe_argv));
  if (probe.status != ExitStatus::exited(0)) {
    host.why_not = "cannot bind-mount a boot id in a private mount namespace (needs root or "
                   "CAP_SYS_ADMIN): " +
                   probe.err;
  } else if (probe.out != other_boot_id() + "\n") {
    host.why_not =
        "the boot id bind-mounted in a private mount namespace does not show: " + probe.out;
  }
  return host;
}

} // namespace buildlock::test
