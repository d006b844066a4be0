// sandboxd-launch: puts itself into the command's cgroups and under its rlimits, then
// execs the sandbox (bwrap, the landlock launcher, or the command itself):
//
//   sandboxd-launch [--join CGROUP_PROCS_FILE]... [--cpu SOFT:HARD] [--as BYTES]
//                   [--fsize BYTES] [--nofile N] -- PROGRAM [ARGS...]
//
// Joining before the exec means every process of the command starts inside the cgroup:
// nothing can fork before the server moves it. PROGRAM is an absolute path. On failure
// it prints "sandboxd-launch: ..." and exits 126.

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sandboxd-launch: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(126);
}

void Join(const std::string& procs_file) {
  std::ofstream out(procs_file);
  out << "0";  // This process.
  out.flush();
  if (!out) Die("joining " + procs_file);
}

void Limit(int resource, const std::string& value, const char* name) {
  rlimit limit{};
  size_t colon = value.find(':');
  limit.rlim_cur = std::strtoull(value.substr(0, colon).c_str(), nullptr, 10);
  limit.rlim_max = colon == std::string::npos ? limit.rlim_cur
                                              : std::strtoull(value.substr(colon + 1).c_str(), nullptr, 10);
  if (setrlimit(resource, &limit) != 0) Die(std::string("setrlimit ") + name);
}

}  // namespace

int main(int argc, char** argv) {
  int i = 1;
  for (; i + 1 < argc && std::strcmp(argv[i], "--") != 0; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--join") {
      Join(value);
    } else if (flag == "--cpu") {
      Limit(RLIMIT_CPU, value, "RLIMIT_CPU");
    } else if (flag == "--as") {
      Limit(RLIMIT_AS, value, "RLIMIT_AS");
    } else if (flag == "--fsize") {
      Limit(RLIMIT_FSIZE, value, "RLIMIT_FSIZE");
    } else if (flag == "--nofile") {
      Limit(RLIMIT_NOFILE, value, "RLIMIT_NOFILE");
    } else {
      errno = EINVAL;
      Die("unknown option " + flag);
    }
  }
  if (i >= argc || std::strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
    errno = EINVAL;
    Die("usage: [--join F]... [--cpu S:H] [--as N] [--fsize N] [--nofile N] -- PROGRAM ARGS");
  }
  execv(argv[i + 1], argv + i + 1);
  Die(std::string("exec ") + argv[i + 1]);
}
