// without_flock ERRNO PROGRAM [ARG...]: runs PROGRAM where every flock(2) fails with ERRNO
// (ENOLCK, EOPNOTSUPP, ENOSYS or EIO), as on a filesystem without kernel locks: NFS without a
// lock daemon, some FUSE filesystems.
//
// Such a filesystem cannot be mounted by a test (an NFS server, a FUSE daemon), so the failure is
// made where buildlock meets it, at the system call, by a seccomp filter that the process and
// everything it starts inherit. Nothing else changes: the files, link(), rename() and mtimes are
// those of the real filesystem. Exits 125 when the filter cannot be installed (with the reason).
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string_view>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

#if defined(__x86_64__)
constexpr unsigned this_architecture = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned this_architecture = AUDIT_ARCH_AARCH64;
#else
#error "without_flock: add this architecture's AUDIT_ARCH_ value"
#endif

int errno_named(std::string_view name) {
  const std::pair<std::string_view, int> known[] = {
      {"ENOLCK", ENOLCK}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ENOSYS", ENOSYS}, {"EIO", EIO}};
  for (const auto& [known_name, number] : known) {
    if (name == known_name) {
      return number;
    }
  }
  return 0;
}

bool fail_flock_with(int error) {
  sock_filter program[] = {
      // Another architecture's system call numbers mean other calls: let them be.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, this_architecture, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_flock, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(error) & 0xffff)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog filter{static_cast<unsigned short>(sizeof program / sizeof program[0]), program};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) == 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3 || errno_named(argv[1]) == 0) {
    std::fprintf(stderr, "usage: without_flock ENOLCK|EOPNOTSUPP|ENOSYS|EIO PROGRAM [ARG...]\n");
    return 125;
  }
  if (!fail_flock_with(errno_named(argv[1]))) {
    std::fprintf(stderr, "without_flock: cannot install the seccomp filter: %s\n",
                 std::strerror(errno));
    return 125;
  }
  ::execvp(argv[2], argv + 2);
  std::fprintf(stderr, "without_flock: cannot run %s: %s\n", argv[2], std::strerror(errno));
  return 127;
}
