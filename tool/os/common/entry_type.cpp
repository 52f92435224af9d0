#include "os/filesystem.h"

namespace buildlock::os {

const char* describe(EntryType type) {
  switch (type) {
  case EntryType::missing:
    return "missing";
  case EntryType::regular:
    return "a regular file";
  case EntryType::directory:
    return "a directory";
  case EntryType::symlink:
    return "a symbolic link";
  case EntryType::fifo:
    return "a FIFO";
  case EntryType::socket:
    return "a socket";
  case EntryType::device:
    return "a device";
  case EntryType::other:
    break;
  }
  return "not a regular file";
}

} // namespace buildlock::os
