// Applies a Docker seccomp profile (JSON, in Docker's own format) to itself the way
// Docker applies one to a container's first process, then execs a command:
//
//   docker_seccomp_exec PROFILE [--drop NAME]... -- PROGRAM [ARGS...]
//
// --drop leaves a system call out of the profile's allowed ones, for controls. Rules
// for other architectures, or that Docker applies only to containers with added
// capabilities, are skipped as Docker skips them; names the kernel does not know are
// ignored, as Docker ignores them. Rules with argument conditions are refused: the
// profile this serves has none.

#include <seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "base/read_file.h"
#include "docker/seccomp_profile.pb.h"

namespace {

using sandboxd::tests::docker::SeccompProfile;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "docker_seccomp_exec: %s\n", what.c_str());
  std::exit(125);
}

uint32_t Action(const std::string& name, uint32_t errno_ret) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  Die("unknown action " + name);
}

// Docker's names for this machine's architecture.
bool ForThisArch(const SeccompProfile::Filter& includes) {
  if (includes.arches().empty()) return true;
#if defined(__x86_64__)
  const char* arch = "amd64";
#elif defined(__aarch64__)
  const char* arch = "arm64";
#else
  const char* arch = "";
#endif
  return std::find(includes.arches().begin(), includes.arches().end(), arch) !=
         includes.arches().end();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) Die("usage: docker_seccomp_exec PROFILE [--drop NAME]... -- PROGRAM [ARGS...]");
  std::set<std::string> dropped;
  int i = 2;
  for (; i + 1 < argc && std::strcmp(argv[i], "--drop") == 0; i += 2) dropped.insert(argv[i + 1]);
  if (i + 1 >= argc || std::strcmp(argv[i], "--") != 0) Die("expected -- PROGRAM");
  SeccompProfile profile;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // archMap: this machine's own arch is used.
  if (!google::protobuf::util::JsonStringToMessage(sandboxd::ReadFileOrEmpty(argv[1]), &profile,
                                                   options)
           .ok()) {
    Die(std::string("cannot read the profile ") + argv[1]);
  }
  scmp_filter_ctx filter =
      seccomp_init(Action(profile.default_action(), profile.default_errno_ret()));
  if (filter == nullptr) Die("seccomp_init failed");
  for (const SeccompProfile::Rule& rule : profile.syscalls()) {
    if (!rule.args().empty()) Die("rules with argument conditions are not supported");
    if (!ForThisArch(rule.includes()) || !rule.includes().caps().empty()) continue;
    uint32_t action = Action(rule.action(), rule.errno_ret() ? rule.errno_ret()
                                                             : profile.default_errno_ret());
    for (const std::string& name : rule.names()) {
      if (action == SCMP_ACT_ALLOW && dropped.count(name) != 0) continue;
      int number = seccomp_syscall_resolve_name(name.c_str());
      if (number == __NR_SCMP_ERROR) continue;
      if (seccomp_rule_add(filter, action, number, 0) != 0) Die("cannot add a rule for " + name);
    }
  }
  // As Docker does for a process without CAP_SYS_ADMIN.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die("PR_SET_NO_NEW_PRIVS failed");
  if (seccomp_load(filter) != 0) Die("seccomp_load failed");
  execvp(argv[i + 1], argv + i + 1);
  Die(std::string("exec ") + argv[i + 1] + ": " + std::strerror(errno));
}
