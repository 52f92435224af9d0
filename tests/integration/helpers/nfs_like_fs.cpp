// nfs_like_fs BACKING MOUNTPOINT READY_FD: a FUSE filesystem that shows BACKING at MOUNTPOINT
// and takes flock(2) the way a Linux NFS client does, so that tests can run buildlock on
// "NFS" where no NFS server can run (no nfs kernel module here, but /dev/fuse).
//
// What it emulates, from the Linux NFS client (fs/nfs/file.c, nfs4proc.c):
// - flock is forwarded to the filesystem (here: to this process, which takes it on its own
//   descriptor of the backing file, so locks exclude each other exactly as on one NFS server),
//   not kept in the client's kernel;
// - flock is emulated with a whole-file byte-range lock, which checks the open mode: LOCK_EX on a
//   descriptor not open for writing, or LOCK_SH on one not open for reading, fails with EBADF
//   ("the file must be opened for writing", flock(2));
// - the server, not the client, decides who may open a file for writing, and gives root no
//   override (NFS's default root_squash maps root to an ordinary user): opening a file whose
//   mode bits deny the caller write access fails with EACCES, root included.
// Everything else passes through to BACKING: inode numbers are the backing files' (use_ino), no
// attribute or name caching (like NFS with `noac`), an unlinked open file stays usable through its
// descriptors. Not emulated: NFS's attribute caching, silly rename, server leases and reboots.
//
// It runs in the foreground (a child of the test) until `fusermount3 -u MOUNTPOINT`, and writes one
// byte to READY_FD once the kernel has mounted it (the test waits for that byte instead of polling
// for the mount).
#define FUSE_USE_VERSION 312

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace {

int backing_fd = -1;
int ready_fd = -1;

// Paths from FUSE start with '/'; every call below is relative to the backing directory.
std::string relative(const char* path) {
  if (path == nullptr || path[0] == '\0' || std::strcmp(path, "/") == 0) {
    return ".";
  }
  return path[0] == '/' ? std::string(path + 1) : std::string(path);
}

int result(int rc) {
  return rc == -1 ? -errno : 0;
}

int nfs_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (fi != nullptr) {
    return result(::fstat(static_cast<int>(fi->fh), st));
  }
  return result(::fstatat(backing_fd, relative(path).c_str(), st, AT_SYMLINK_NOFOLLOW));
}

int nfs_readlink(const char* path, char* buffer, size_t size) {
  const ssize_t n = ::readlinkat(backing_fd, relative(path).c_str(), buffer, size - 1);
  if (n == -1) {
    return -errno;
  }
  buffer[n] = '\0';
  return 0;
}

int nfs_mknod(const char* path, mode_t mode, dev_t device) {
  return result(::mknodat(backing_fd, relative(path).c_str(), mode, device));
}

int nfs_mkdir(const char* path, mode_t mode) {
  return result(::mkdirat(backing_fd, relative(path).c_str(), mode));
}

int nfs_unlink(const char* path) {
  return result(::unlinkat(backing_fd, relative(path).c_str(), 0));
}

int nfs_rmdir(const char* path) {
  return result(::unlinkat(backing_fd, relative(path).c_str(), AT_REMOVEDIR));
}

int nfs_symlink(const char* target, const char* path) {
  return result(::symlinkat(target, backing_fd, relative(path).c_str()));
}

int nfs_rename(const char* from, const char* to, unsigned int flags) {
  if (flags != 0) {
    return -EINVAL; // NFS has no RENAME_NOREPLACE or RENAME_EXCHANGE either
  }
  return result(::renameat(backing_fd, relative(from).c_str(), backing_fd, relative(to).c_str()));
}

int nfs_link(const char* from, const char* to) {
  return result(::linkat(backing_fd, relative(from).c_str(), backing_fd, relative(to).c_str(), 0));
}

int nfs_chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  if (fi != nullptr) {
    return result(::fchmod(static_cast<int>(fi->fh), mode));
  }
  return result(::fchmodat(backing_fd, relative(path).c_str(), mode, 0));
}

int nfs_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  if (fi != nullptr) {
    return result(::fchown(static_cast<int>(fi->fh), uid, gid));
  }
  return result(::fchownat(backing_fd, relative(path).c_str(), uid, gid, AT_SYMLINK_NOFOLLOW));
}

int nfs_truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (fi != nullptr) {
    return result(::ftruncate(static_cast<int>(fi->fh), size));
  }
  const int fd = ::openat(backing_fd, relative(path).c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1) {
    return -errno;
  }
  const int rc = result(::ftruncate(fd, size));
  ::close(fd);
  return rc;
}

int nfs_utimens(const char* path, const struct timespec times[2], fuse_file_info* fi) {
  if (fi != nullptr) {
    return result(::futimens(static_cast<int>(fi->fh), times));
  }
  return result(::utimensat(backing_fd, relative(path).c_str(), times, AT_SYMLINK_NOFOLLOW));
}

// The server's permission check for an open for writing, with no override for root.
bool write_allowed(const struct stat& st) {
  const fuse_context* caller = fuse_get_context();
  if (caller->uid == st.st_uid) {
    return (st.st_mode & S_IWUSR) != 0;
  }
  if (caller->gid == st.st_gid) {
    return (st.st_mode & S_IWGRP) != 0;
  }
  return (st.st_mode & S_IWOTH) != 0;
}

int nfs_open(const char* path, fuse_file_info* fi) {
  const int flags = fi->flags & ~(O_CREAT | O_EXCL | O_NOCTTY);
  const int fd = ::openat(backing_fd, relative(path).c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1) {
    return -errno;
  }
  struct stat st {};
  if ((flags & O_ACCMODE) != O_RDONLY && (::fstat(fd, &st) != 0 || !write_allowed(st))) {
    ::close(fd);
    return -EACCES;
  }
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int nfs_create(const char* path, mode_t mode, fuse_file_info* fi) {
  const int fd = ::openat(backing_fd, relative(path).c_str(),
                          fi->flags | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd == -1) {
    return -errno;
  }
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int nfs_read(const char*, char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  const ssize_t n = ::pread(static_cast<int>(fi->fh), buffer, size, offset);
  return n == -1 ? -errno : static_cast<int>(n);
}

int nfs_write(const char*, const char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  const ssize_t n = ::pwrite(static_cast<int>(fi->fh), buffer, size, offset);
  return n == -1 ? -errno : static_cast<int>(n);
}

int nfs_statfs(const char*, struct statvfs* st) {
  return result(::fstatvfs(backing_fd, st));
}

int nfs_release(const char*, fuse_file_info* fi) {
  // Closing the backing descriptor drops its flock, as the NFS client unlocks at close.
  ::close(static_cast<int>(fi->fh));
  return 0;
}

int nfs_fsync(const char*, int datasync, fuse_file_info* fi) {
  const int fd = static_cast<int>(fi->fh);
  return result(datasync != 0 ? ::fdatasync(fd) : ::fsync(fd));
}

int nfs_opendir(const char* path, fuse_file_info* fi) {
  const int fd = ::openat(backing_fd, relative(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) {
    return -errno;
  }
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

// The whole listing at once (offsets ignored: FUSE then asks no more), from a copy of the
// directory's descriptor, so that fh stays a plain descriptor.
int nfs_readdir(const char*, void* buffer, fuse_fill_dir_t fill, off_t, fuse_file_info* fi,
                fuse_readdir_flags) {
  const int copy = ::dup(static_cast<int>(fi->fh));
  DIR* directory = copy == -1 ? nullptr : ::fdopendir(copy);
  if (directory == nullptr) {
    const int err = errno;
    if (copy != -1) {
      ::close(copy);
    }
    return -err;
  }
  ::rewinddir(directory);
  errno = 0;
  while (const dirent* entry = ::readdir(directory)) {
    struct stat st {};
    st.st_ino = entry->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(entry->d_type));
    if (fill(buffer, entry->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) {
      break;
    }
  }
  const int err = errno;
  ::closedir(directory);
  return -err;
}

int nfs_releasedir(const char*, fuse_file_info* fi) {
  ::close(static_cast<int>(fi->fh));
  return 0;
}

int nfs_access(const char* path, int mask) {
  return result(::faccessat(backing_fd, relative(path).c_str(), mask, AT_SYMLINK_NOFOLLOW));
}

// flock as the NFS client emulates it: a byte-range lock, whose type must match the open mode.
int nfs_flock(const char*, fuse_file_info* fi, int operation) {
  const int fd = static_cast<int>(fi->fh);
  const int access = ::fcntl(fd, F_GETFL) & O_ACCMODE; // the backing file is opened like ours
  const int kind = operation & (LOCK_SH | LOCK_EX | LOCK_UN);
  if ((kind == LOCK_EX && access == O_RDONLY) || (kind == LOCK_SH && access == O_WRONLY)) {
    return -EBADF;
  }
  // Blocks in this worker thread for a blocking flock; a signal to the caller reaches us as a
  // FUSE interrupt, which (intr below) interrupts this call with EINTR.
  return result(::flock(fd, operation));
}

void* nfs_init(fuse_conn_info*, fuse_config* config) {
  config->use_ino = 1; // the backing files' inode numbers: identities stay comparable
  config->readdir_ino = 1;
  config->nullpath_ok = 1;   // operations on an unlinked open file come with its descriptor
  config->hard_remove = 1;   // unlink at once (no .fuse_hidden files: lock dirs stay clean)
  config->entry_timeout = 0; // no caching: every lookup and stat asks, like NFS with `noac`
  config->attr_timeout = 0;
  config->negative_timeout = 0;
  config->intr = 1; // a signal to a process blocked in flock interrupts it
  config->intr_signal = SIGUSR1;
  // The kernel has mounted us once it sends INIT: tell the test.
  const char byte = 'm';
  if (ready_fd >= 0 && ::write(ready_fd, &byte, 1) == 1) {
    ::close(ready_fd);
    ready_fd = -1;
  }
  return nullptr;
}

fuse_operations operations() {
  fuse_operations ops{};
  ops.getattr = nfs_getattr;
  ops.readlink = nfs_readlink;
  ops.mknod = nfs_mknod;
  ops.mkdir = nfs_mkdir;
  ops.unlink = nfs_unlink;
  ops.rmdir = nfs_rmdir;
  ops.symlink = nfs_symlink;
  ops.rename = nfs_rename;
  ops.link = nfs_link;
  ops.chmod = nfs_chmod;
  ops.chown = nfs_chown;
  ops.truncate = nfs_truncate;
  ops.open = nfs_open;
  ops.read = nfs_read;
  ops.write = nfs_write;
  ops.statfs = nfs_statfs;
  ops.release = nfs_release;
  ops.fsync = nfs_fsync;
  ops.opendir = nfs_opendir;
  ops.readdir = nfs_readdir;
  ops.releasedir = nfs_releasedir;
  ops.init = nfs_init;
  ops.access = nfs_access;
  ops.create = nfs_create;
  ops.utimens = nfs_utimens;
  ops.flock = nfs_flock;
  return ops;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: nfs_like_fs BACKING MOUNTPOINT READY_FD\n");
    return 2;
  }
  backing_fd = ::open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (backing_fd == -1) {
    std::fprintf(stderr, "nfs_like_fs: cannot open %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  ready_fd = std::atoi(argv[3]);
  // A signal to a process blocked in flock reaches us as a FUSE interrupt, upon which libfuse
  // (config->intr) sends SIGUSR1 to the worker blocked for it: an empty handler without
  // SA_RESTART makes that flock return EINTR (libfuse 3.14 installs none before it is needed).
  struct sigaction interrupt {};
  interrupt.sa_handler = [](int) {
  };
  sigemptyset(&interrupt.sa_mask);
  ::sigaction(SIGUSR1, &interrupt, nullptr);
  // Only the user who mounts it may use it (no allow_other, which needs user_allow_other in
  // /etc/fuse.conf for anyone but root); default_permissions is left off on purpose, so that
  // opens are checked here, like an NFS server does.
  std::string program = argv[0];
  std::string options_flag = "-o";
  std::string options = "fsname=nfs_like_fs,subtype=nfs_like";
  char* fuse_argv[] = {program.data(), options_flag.data(), options.data(), nullptr};
  fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
  const fuse_operations ops = operations();
  fuse* fs = fuse_new(&args, &ops, sizeof ops, nullptr);
  if (fs == nullptr) {
    return 1;
  }
  int status = 1;
  if (fuse_mount(fs, argv[2]) == 0) {
    if (fuse_set_signal_handlers(fuse_get_session(fs)) == 0) {
      // Multithreaded, with room for many: each waiter blocked in flock occupies one worker, and
      // the others must go on serving (fuse_main's default is at most 10).
      fuse_loop_config* loop = fuse_loop_cfg_create();
      fuse_loop_cfg_set_max_threads(loop, 256);
      status = fuse_loop_mt(fs, loop) == 0 ? 0 : 1;
      fuse_loop_cfg_destroy(loop);
      fuse_remove_signal_handlers(fuse_get_session(fs));
    }
    fuse_unmount(fs);
  }
  fuse_destroy(fs);
  fuse_opt_free_args(&args);
  return status;
}
