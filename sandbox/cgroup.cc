#include "sandbox/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/read_file.h"

namespace sandboxd {
namespace {

// Plain system calls rather than a stream, as ReadFileOrEmpty: this runs on every
// request's path.
absl::Status Write(const std::string& path, const std::string& value) {
  // O_CREAT and O_TRUNC as a stream would: the tests use a plain directory.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool written =
      fd >= 0 && write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  int error = errno;
  if (fd >= 0) close(fd);
  if (!written) {
    return absl::InternalError(absl::StrCat("cannot write ", value, " to ", path, ": ",
                                            std::strerror(error)));
  }
  return absl::OkStatus();
}

uint64_t ReadNumber(const std::string& path) {
  uint64_t value = 0;
  std::string text = ReadFileOrEmpty(path);
  absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value);
  return value;
}

// "key value" lines, as in cpu.stat and memory.events.
std::map<std::string, uint64_t> ReadKeyed(const std::string& path) {
  std::map<std::string, uint64_t> values;
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(path), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t value = 0;
    if (parts.size() == 2 && absl::SimpleAtoi(parts[1], &value)) values[std::string(parts[0])] = value;
  }
  return values;
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("cannot create cgroup ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// SIGKILLs what `procs_file` lists; false when it listed nothing.
bool KillListed(const std::string& procs_file) {
  std::string procs = ReadFileOrEmpty(procs_file);
  for (absl::string_view line : absl::StrSplit(procs, '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) kill(pid, SIGKILL);
  }
  return !procs.empty();
}

// Kills what `procs_file` lists until it lists nothing, then removes `dir`. A process
// may fork while we read, and a dying one stays listed until it is done exiting; a
// few rounds settle it.
void KillAndRemove(const std::string& procs_file, const std::string& dir) {
  for (int round = 0; round < 100 && KillListed(procs_file); ++round) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  for (int round = 0; round < 100 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++round) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

class CgroupV2 : public Cgroup {
 public:
  explicit CgroupV2(std::string dir) : dir_(std::move(dir)) {}
  ~CgroupV2() override { KillAndRemove(dir_ + "/cgroup.procs", dir_); }

  std::vector<std::string> ProcsFiles() const override { return {dir_ + "/cgroup.procs"}; }
  absl::Status SetLimits(uint64_t memory_bytes, uint64_t max_processes) override {
    if (memory_bytes) {
      if (absl::Status s = Write(dir_ + "/memory.max", absl::StrCat(memory_bytes)); !s.ok()) return s;
      // No swap, or the limit would only slow the command down.
      Write(dir_ + "/memory.swap.max", "0").IgnoreError();
    }
    if (max_processes) return Write(dir_ + "/pids.max", absl::StrCat(max_processes));
    return absl::OkStatus();
  }
  CgroupUsage Usage() const override {
    std::map<std::string, uint64_t> cpu = ReadKeyed(dir_ + "/cpu.stat");
    CgroupUsage usage;
    usage.user_cpu = absl::Microseconds(cpu["user_usec"]);
    usage.system_cpu = absl::Microseconds(cpu["system_usec"]);
    usage.peak_memory_bytes = ReadNumber(dir_ + "/memory.peak");
    usage.oom_killed = ReadKeyed(dir_ + "/memory.events")["oom_kill"] > 0;
    return usage;
  }
  void KillAll() override {
    // cgroup.kill (Linux 5.14) kills the whole tree at once; older kernels get a
    // SIGKILL per listed process.
    if (!Write(dir_ + "/cgroup.kill", "1").ok()) KillListed(dir_ + "/cgroup.procs");
  }

 private:
  std::string dir_;
};

class ParentV2 : public CgroupParent {
 public:
  explicit ParentV2(std::string dir) : dir_(std::move(dir)) {}
  std::string Describe() const override { return "cgroup v2 at " + dir_; }

  absl::StatusOr<std::unique_ptr<Cgroup>> Create(const std::string& name) const override {
    std::string dir = dir_ + "/" + name;
    if (absl::Status s = MakeDir(dir); !s.ok()) return s;
    return std::make_unique<CgroupV2>(dir);
  }

 private:
  std::string dir_;
};

// v1: one directory per hierarchy.
class CgroupV1 : public Cgroup {
 public:
  CgroupV1(std::string memory, std::string pids, std::string cpuacct)
      : memory_(std::move(memory)), pids_(std::move(pids)), cpuacct_(std::move(cpuacct)) {}
  ~CgroupV1() override {
    for (const std::string* dir : {&memory_, &pids_, &cpuacct_}) {
      KillAndRemove(*dir + "/cgroup.procs", *dir);
    }
  }

  std::vector<std::string> ProcsFiles() const override {
    return {memory_ + "/cgroup.procs", pids_ + "/cgroup.procs", cpuacct_ + "/cgroup.procs"};
  }
  absl::Status SetLimits(uint64_t memory_bytes, uint64_t max_processes) override {
    if (memory_bytes) {
      absl::Status s = Write(memory_ + "/memory.limit_in_bytes", absl::StrCat(memory_bytes));
      if (!s.ok()) return s;
    }
    if (max_processes) return Write(pids_ + "/pids.max", absl::StrCat(max_processes));
    return absl::OkStatus();
  }
  CgroupUsage Usage() const override {
    CgroupUsage usage;
    usage.user_cpu = absl::Nanoseconds(ReadNumber(cpuacct_ + "/cpuacct.usage_user"));
    usage.system_cpu = absl::Nanoseconds(ReadNumber(cpuacct_ + "/cpuacct.usage_sys"));
    usage.peak_memory_bytes = ReadNumber(memory_ + "/memory.max_usage_in_bytes");
    usage.oom_killed = ReadKeyed(memory_ + "/memory.oom_control")["oom_kill"] > 0;
    return usage;
  }
  void KillAll() override { KillListed(pids_ + "/cgroup.procs"); }

 private:
  std::string memory_, pids_, cpuacct_;
};

class ParentV1 : public CgroupParent {
 public:
  ParentV1(std::string memory, std::string pids, std::string cpuacct)
      : memory_(std::move(memory)), pids_(std::move(pids)), cpuacct_(std::move(cpuacct)) {}
  std::string Describe() const override {
    return absl::StrCat("cgroup v1 at ", memory_, ", ", pids_, ", ", cpuacct_);
  }

  absl::StatusOr<std::unique_ptr<Cgroup>> Create(const std::string& name) const override {
    std::string memory = memory_ + "/" + name, pids = pids_ + "/" + name,
                cpuacct = cpuacct_ + "/" + name;
    if (absl::Status s = MakeDir(memory); !s.ok()) return s;
    if (absl::Status s = MakeDir(pids); !s.ok()) {
      rmdir(memory.c_str());
      return s;
    }
    if (absl::Status s = MakeDir(cpuacct); !s.ok()) {
      rmdir(memory.c_str());
      rmdir(pids.c_str());
      return s;
    }
    return std::make_unique<CgroupV1>(memory, pids, cpuacct);
  }

 private:
  std::string memory_, pids_, cpuacct_;
};

// The server's own cgroup path in each hierarchy: "" for v2, else the controller.
std::map<std::string, std::string> OwnCgroups() {
  std::map<std::string, std::string> paths;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    for (absl::string_view controller : absl::StrSplit(parts[1], ',')) {
      paths[std::string(controller)] = parts[2] == "/" ? "" : parts[2];
    }
  }
  return paths;
}

bool Writable(const std::string& dir) { return access(dir.c_str(), W_OK) == 0; }

}  // namespace

std::unique_ptr<CgroupParent> CgroupParent::V2At(const std::string& dir) {
  return std::make_unique<ParentV2>(dir);
}

absl::StatusOr<std::unique_ptr<CgroupParent>> CgroupParent::Detect(const std::string& fs_root) {
  std::map<std::string, std::string> own = OwnCgroups();
  // v2 (mounted at fs_root, or at fs_root/unified beside v1): the server's cgroup
  // must hand memory and pids to its children.
  std::string v2_root = access((fs_root + "/cgroup.controllers").c_str(), F_OK) == 0
                            ? fs_root
                            : fs_root + "/unified";
  if (own.count("")) {
    std::string dir = v2_root + own[""];
    std::string subtree = ReadFileOrEmpty(dir + "/cgroup.subtree_control");
    if (subtree.find("memory") != std::string::npos && subtree.find("pids") != std::string::npos &&
        Writable(dir)) {
      return CgroupParent::V2At(dir);
    }
  }
  std::string memory = fs_root + "/memory" + own["memory"];
  std::string pids = fs_root + "/pids" + own["pids"];
  std::string cpuacct = fs_root + "/cpuacct" + own["cpuacct"];
  if (own.count("memory") && own.count("pids") && own.count("cpuacct") && Writable(memory) &&
      Writable(pids) && Writable(cpuacct)) {
    return std::unique_ptr<CgroupParent>(new ParentV1(memory, pids, cpuacct));
  }
  return absl::NotFoundError(
      "no writable cgroup to put commands in (cgroup v2 needs a delegated cgroup with memory "
      "and pids in cgroup.subtree_control, e.g. systemd Delegate=yes; cgroup v1 needs "
      "writable memory, pids and cpuacct hierarchies): limits are per process (rlimits), "
      "and usage covers only what bwrap reaps");
}

}  // namespace sandboxd
