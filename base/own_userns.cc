#include "base/own_userns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace sandboxd {
namespace {

bool WriteProcFile(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  size_t size = strlen(text);
  bool ok = fd >= 0 && write(fd, text, size) == static_cast<ssize_t>(size);
  if (fd >= 0) close(fd);
  return ok;
}

// A map of `id` onto itself into `path`; null on success, else `path`.
const char* MapOntoItself(const char* path, unsigned id) {
  char map[64];
  snprintf(map, sizeof map, "%u %u 1", id, id);
  return WriteProcFile(path, map) ? nullptr : path;
}

}  // namespace

const char* EnterOwnUserNamespace(int flags, const char* unsharing) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | flags) != 0) return unsharing;
  // A process that became its user by leaving root is not dumpable, and its /proc
  // files, the maps among them, stay root's: dumpable just while it writes them.
  if (prctl(PR_SET_DUMPABLE, 1) != 0) return "making the maps writable";
  if (const char* failed = MapOntoItself("/proc/self/uid_map", uid)) return failed;
  if (!WriteProcFile("/proc/self/setgroups", "deny")) return "denying setgroups";
  if (const char* failed = MapOntoItself("/proc/self/gid_map", gid)) return failed;
  if (prctl(PR_SET_DUMPABLE, 0) != 0) return "making the process undumpable again";
  return nullptr;
}

}  // namespace sandboxd
