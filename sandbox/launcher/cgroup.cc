#include "sandbox/launcher/cgroup.h"

#include <dirent.h>
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

// SIGKILLs what `procs_file` lists but `spare`; false when it listed nothing else.
bool KillListed(const std::string& procs_file, int spare) {
  bool listed = false;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrEmpty(procs_file), '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (!absl::SimpleAtoi(line, &pid) || pid <= 0 || pid == spare) continue;
    listed = true;
    kill(pid, SIGKILL);
  }
  return listed;
}

// Kills what `procs_file` lists but `spare` until it lists nothing else. A process
// may fork while we read, and a dying one stays listed until it is done exiting; a
// few rounds settle it.
absl::Status KillUntilEmpty(const std::string& procs_file, int spare) {
  for (int round = 0; round < 100; ++round) {
    if (!KillListed(procs_file, spare)) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!KillListed(procs_file, spare)) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(procs_file, " still lists processes"));
}

void KillAndRemove(const std::string& procs_file, const std::string& dir) {
  KillUntilEmpty(procs_file, 0).IgnoreError();
  for (int round = 0; round < 100 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++round) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

// Removes the empty subdirectories of `dir` that `stale` names; returns how many.
int RemoveStaleIn(const std::string& dir, const std::function<bool(const std::string&)>& stale) {
  int removed = 0;
  DIR* parent = opendir(dir.c_str());
  if (parent == nullptr) return 0;
  while (dirent* entry = readdir(parent)) {
    std::string name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != ".." && stale(name) &&
        rmdir((dir + "/" + name).c_str()) == 0) {
      ++removed;
    }
  }
  closedir(parent);
  return removed;
}

std::string LimitOrMax(uint64_t limit) { return limit ? absl::StrCat(limit) : "max"; }

// Counters that cannot be restarted, as read when counting started.
struct Baseline {
  absl::Duration user_cpu, system_cpu;
  uint64_t oom_kills = 0;
  uint64_t forks_refused = 0;
};

// How many forks the kernel refused at pids.max: "max N" in pids.events.
uint64_t ForksRefused(const std::string& dir) { return ReadKeyed(dir + "/pids.events")["max"]; }

class CgroupV2 : public Cgroup {
 public:
  explicit CgroupV2(std::string dir) : dir_(std::move(dir)) {}
  ~CgroupV2() override {
    if (peak_fd_ >= 0) close(peak_fd_);
    KillAndRemove(dir_ + "/cgroup.procs", dir_);
  }

  std::vector<std::string> ProcsFiles() const override { return {dir_ + "/cgroup.procs"}; }
  absl::Status SetLimits(uint64_t memory_bytes, uint64_t max_processes) override {
    if (absl::Status s = Write(dir_ + "/memory.max", LimitOrMax(memory_bytes)); !s.ok()) return s;
    // No swap under a limit, or the limit would only slow the command down.
    Write(dir_ + "/memory.swap.max", memory_bytes ? "0" : "max").IgnoreError();
    return Write(dir_ + "/pids.max", LimitOrMax(max_processes));
  }
  absl::Status StartCounting() override {
    // Writing to memory.peak restarts it, but only for reads through the same fd.
    if (peak_fd_ < 0) peak_fd_ = open((dir_ + "/memory.peak").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (peak_fd_ < 0 || pwrite(peak_fd_, "reset\n", 6, 0) != 6) {
      return absl::UnimplementedError(
          absl::StrCat("cannot restart ", dir_, "/memory.peak: ", std::strerror(errno)));
    }
    baseline_ = Read();
    return absl::OkStatus();
  }
  CgroupUsage Usage() const override {
    Baseline now = Read();
    CgroupUsage usage;
    usage.user_cpu = now.user_cpu - baseline_.user_cpu;
    usage.system_cpu = now.system_cpu - baseline_.system_cpu;
    usage.oom_killed = now.oom_kills > baseline_.oom_kills;
    usage.forks_refused = now.forks_refused > baseline_.forks_refused;
    if (peak_fd_ < 0) {
      usage.peak_memory_bytes = ReadNumber(dir_ + "/memory.peak");
    } else {
      char text[32] = {};
      if (pread(peak_fd_, text, sizeof text - 1, 0) > 0) {
        absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &usage.peak_memory_bytes);
      }
    }
    return usage;
  }
  void KillAll(int spare) override {
    // cgroup.kill (Linux 5.14) kills the whole tree at once; older kernels, and a
    // cgroup with a spare, get a SIGKILL per listed process.
    if (spare != 0 || !Write(dir_ + "/cgroup.kill", "1").ok()) {
      KillListed(dir_ + "/cgroup.procs", spare);
    }
  }
  absl::Status Empty(int spare) override { return KillUntilEmpty(dir_ + "/cgroup.procs", spare); }
  uint64_t MemoryInUse() const override { return ReadNumber(dir_ + "/memory.current"); }

 private:
  Baseline Read() const {
    std::map<std::string, uint64_t> cpu = ReadKeyed(dir_ + "/cpu.stat");
    return {absl::Microseconds(cpu["user_usec"]), absl::Microseconds(cpu["system_usec"]),
            ReadKeyed(dir_ + "/memory.events")["oom_kill"], ForksRefused(dir_)};
  }

  std::string dir_;
  Baseline baseline_;
  int peak_fd_ = -1;
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
  int RemoveStale(const std::function<bool(const std::string&)>& stale) const override {
    return RemoveStaleIn(dir_, stale);
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
    absl::Status s = Write(memory_ + "/memory.limit_in_bytes",
                           memory_bytes ? absl::StrCat(memory_bytes) : "-1");
    if (!s.ok()) return s;
    return Write(pids_ + "/pids.max", LimitOrMax(max_processes));
  }
  absl::Status StartCounting() override {
    // v1 restarts both on a write of 0 (the peak from the current usage).
    if (absl::Status s = Write(cpuacct_ + "/cpuacct.usage", "0"); !s.ok()) return s;
    if (absl::Status s = Write(memory_ + "/memory.max_usage_in_bytes", "0"); !s.ok()) return s;
    oom_kills_ = OomKills();
    forks_refused_ = ForksRefused(pids_);
    return absl::OkStatus();
  }
  CgroupUsage Usage() const override {
    CgroupUsage usage;
    usage.user_cpu = absl::Nanoseconds(ReadNumber(cpuacct_ + "/cpuacct.usage_user"));
    usage.system_cpu = absl::Nanoseconds(ReadNumber(cpuacct_ + "/cpuacct.usage_sys"));
    usage.peak_memory_bytes = ReadNumber(memory_ + "/memory.max_usage_in_bytes");
    usage.oom_killed = OomKills() > oom_kills_;
    usage.forks_refused = ForksRefused(pids_) > forks_refused_;
    return usage;
  }
  void KillAll(int spare) override { KillListed(pids_ + "/cgroup.procs", spare); }
  absl::Status Empty(int spare) override { return KillUntilEmpty(pids_ + "/cgroup.procs", spare); }
  uint64_t MemoryInUse() const override { return ReadNumber(memory_ + "/memory.usage_in_bytes"); }

 private:
  uint64_t OomKills() const { return ReadKeyed(memory_ + "/memory.oom_control")["oom_kill"]; }

  std::string memory_, pids_, cpuacct_;
  uint64_t oom_kills_ = 0;
  uint64_t forks_refused_ = 0;
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
  int RemoveStale(const std::function<bool(const std::string&)>& stale) const override {
    return RemoveStaleIn(memory_, stale) + RemoveStaleIn(pids_, stale) +
           RemoveStaleIn(cpuacct_, stale);
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
