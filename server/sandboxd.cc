// sandboxd: serves sandbox.v1.SandboxService, plus grpc.health.v1.Health and server
// reflection, on a Unix socket or a loopback port.

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "base/byte_size.h"
#include "base/enum_name.h"
#include "base/malloc_tuning.h"
#include "base/read_file.h"
#include "sandbox/host_features.h"
#include "sandbox/net/proxy.h"
#include "sandbox/net/proxy_process.h"
#include "sandbox/runner.h"
#include "server/auth.h"
#include "base/listen.h"
#include "server/probe_health.h"
#include "server/request_log.h"
#include "sandbox/session/ids.h"
#include "server/service.h"

ABSL_FLAG(std::string, listen, "",
          "Where to listen: unix:/abs/path or a loopback HOST:PORT. Default: a Unix socket "
          "in an owner-only directory, $XDG_RUNTIME_DIR/sandboxd/sandboxd.sock, "
          "/run/sandboxd/sandboxd.sock for root, else /tmp/sandboxd-UID/sandboxd.sock.");
ABSL_FLAG(std::string, socket_group, "",
          "With a Unix socket: a group (name or number) whose members may connect too; the "
          "socket gets mode 0660 and its directory 0710, both of that group. The server "
          "must be a member (or root). Default: only the server's user.");
ABSL_FLAG(std::string, health_listen, "",
          "Also serve grpc.health.v1 alone, in plaintext and without credentials, at "
          "HOST:PORT (e.g. 0.0.0.0:8081): for probes that speak neither TLS nor tokens, "
          "such as the kubelet's. Service \"\" answers SERVING while the process runs "
          "(liveness); \"sandbox.v1.SandboxService\" NOT_SERVING once it drains "
          "(readiness).");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Minutes(1),
          "Ping a connection that has been silent this long (a stream waiting on a quiet "
          "command, through load balancers and NAT that drop idle connections); 0: never.");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(20),
          "Close a connection whose ping is not answered within this.");
ABSL_FLAG(absl::Duration, keepalive_min_client_interval, absl::Seconds(10),
          "Clients may ping this often, also while no call is open; more often and they "
          "are told to back off (GOAWAY too_many_pings). gRPC's own default is 5 minutes.");
ABSL_FLAG(std::string, bwrap, "/usr/bin/bwrap", "Path of the bubblewrap binary.");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the server; with --tls_key, "
          "turns on TLS (and allows listening beyond loopback).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the server.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require client certificates signed by it (mutual TLS); the "
          "certificate's common name is the client's identity.");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "File of \"IDENTITY TOKEN\" lines: every call must carry \"authorization: Bearer "
          "TOKEN\" with one of them (compared in constant time).");
ABSL_FLAG(std::string, backend, "auto",
          "What enforces policies: bwrap, landlock, or auto (bwrap where user namespaces "
          "work, else landlock).");
ABSL_FLAG(std::string, landlock_exec, "",
          "Path of sandboxd-landlock-exec (default: beside the sandboxd binary).");
ABSL_FLAG(std::string, proc, "auto",
          "/proc in sandboxes: fresh (a new procfs), empty, or auto (fresh where the host "
          "allows it).");
ABSL_FLAG(bool, danger_landlock_unprotected_paths, false,
          "Under the landlock backend, run workspace-write requests although protected "
          "paths (.git, ...) inside writable roots cannot be kept read-only there.");
ABSL_FLAG(std::string, default_mode, "read-only",
          "Mode of requests that name none: read-only or workspace-write.");
ABSL_FLAG(bool, allow_danger_full_access, false,
          "Let requests ask for DANGER_FULL_ACCESS, which runs commands with no sandbox.");
ABSL_FLAG(std::vector<std::string>, protected_names, {},
          "Comma-separated names kept read-only under every writable root, besides .git.");
ABSL_FLAG(std::vector<std::string>, deny_read, {},
          "Comma-separated absolute paths no command may read (the server's own config "
          "and secrets, for example); they appear empty inside the sandbox.");
ABSL_FLAG(bool, private_tmp, true,
          "Give each command an empty /tmp of its own; when false, commands see the "
          "host's /tmp read-only.");
ABSL_FLAG(absl::Duration, default_timeout, absl::Seconds(60),
          "Timeout of requests that set none.");
ABSL_FLAG(absl::Duration, max_timeout, absl::Hours(1), "Largest timeout a request may ask for.");
ABSL_FLAG(sandboxd::ByteSize, default_output_limit, {1 << 20},
          "Bytes kept of stdout and of stderr when a request sets no limit (sizes take "
          "units: 512K, 4MiB, 2G are powers of 1024, 1GB of 1000).");
ABSL_FLAG(sandboxd::ByteSize, max_output_limit, {64 << 20},
          "Largest output_limit_bytes a request may ask for.");
ABSL_FLAG(absl::Duration, max_cpu_time, absl::ZeroDuration(),
          "Ceiling (and default) of each process's CPU time; 0: none.");
ABSL_FLAG(sandboxd::ByteSize, max_memory_bytes, {0},
          "Ceiling (and default) of each process's address space; 0: none.");
ABSL_FLAG(sandboxd::ByteSize, max_file_size_bytes, {0},
          "Ceiling (and default) of the largest file a command may write; 0: none.");
ABSL_FLAG(int64_t, max_open_files, 0,
          "Ceiling (and default) of each process's open files; 0: none.");
ABSL_FLAG(int64_t, max_processes, 1024,
          "Ceiling (and default) of a command's processes and threads; enforced where "
          "the server can make cgroups.");
ABSL_FLAG(std::string, cgroup, "auto",
          "auto: give each command a cgroup (tree-wide memory and process limits, usage) "
          "where the host allows it; none: never.");
ABSL_FLAG(int, prestart, 4,
          "With cgroups: launchers kept started ahead of demand, each already inside a "
          "fresh cgroup, so that a request skips the spawn and the cgroup move (0 to 64; "
          "0: start each with its request).");
ABSL_FLAG(std::string, proxy, "process",
          "How NETWORK_PROXY_ROUTED requests reach the network: through the proxy in a "
          "process of its own, sandboxd-proxy beside sandboxd, which the server starts "
          "again should it die (\"process\"); in a thread of the server (\"thread\"); or "
          "not at all (\"off\": refused).");
ABSL_FLAG(std::vector<std::string>, proxy_allow_domain, {},
          "Comma-separated domains proxy-routed requests may allow (pypi.org, "
          "*.pythonhosted.org, either with :PORT); none: any a request names. A request "
          "naming none gets this list.");
ABSL_FLAG(std::vector<std::string>, proxy_deny_domain, {},
          "Comma-separated domains the proxy refuses to every request.");
ABSL_FLAG(std::vector<std::string>, proxy_allow_destination, {},
          "Comma-separated addresses or CIDRs (10.0.0.0/8, 127.0.0.1) the proxy may connect "
          "to besides public addresses; loopback, private, link-local, metadata, multicast, "
          "unspecified and this host's own addresses are refused otherwise.");
ABSL_FLAG(std::string, proxy_hosts_file, "",
          "A hosts(5) file of names the proxy resolves without DNS.");
ABSL_FLAG(int64_t, proxy_max_connections, 64,
          "Proxy connections one request may have open at once.");
ABSL_FLAG(sandboxd::ByteSize, proxy_max_bytes, {uint64_t{4} << 30},
          "Bytes one request may relay through the proxy, both ways together.");
ABSL_FLAG(absl::Duration, proxy_idle_timeout, absl::Minutes(5),
          "How long a proxy connection may pass nothing before it is closed.");
ABSL_FLAG(std::string, policy_file, "",
          "Per-client rules (text-format sandboxd.policy.v1.OperatorPolicy): writable-root "
          "prefixes, network and danger-full-access, ceilings. Empty: none.");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT to serve Prometheus metrics on (/metrics); empty: none.");
ABSL_FLAG(int, max_concurrent, 16, "Commands that may run at once.");
ABSL_FLAG(int, max_queued, 64,
          "Requests that may wait for a free slot, in arrival order, within their gRPC "
          "deadline; more are refused at once with RESOURCE_EXHAUSTED.");
ABSL_FLAG(std::string, command_user, "sandboxd-cmd",
          "With the server running as root: the unprivileged host user commands run as "
          "(a name, or UID:GID), so that root-only files and the server's own stay closed "
          "to them. tools/setup.sh creates sandboxd-cmd. Ignored when the server runs as "
          "another user: commands then run as that user.");
ABSL_FLAG(bool, danger_commands_as_root, false,
          "With the server running as root: run commands as root too (without "
          "capabilities, in their own user namespace) instead of as --command_user. "
          "Root-only host files are then readable to every command.");
ABSL_FLAG(std::string, state_dir, "",
          "Where the server keeps what must outlive it (the placeholders it made in "
          "workspaces, for the next server to remove after a crash). Default: "
          "/var/lib/sandboxd for root, else $XDG_STATE_HOME/sandboxd or "
          "~/.local/state/sandboxd. Hidden from commands.");
ABSL_FLAG(std::vector<std::string>, danger_writable_system_paths, {},
          "Comma-separated directories inside the never-writable system places (/etc, "
          "/usr, /run, /root, ...) that requests may name as writable roots.");
ABSL_FLAG(std::string, metrics_auth_file, "",
          "File holding USER:PASSWORD: /metrics then answers only HTTP basic "
          "authentication with them. Without it, requests cannot have NETWORK_ENABLED "
          "while metrics are served (a command could read them).");
ABSL_FLAG(sandboxd::ByteSize, max_request_bytes, {4 << 20},
          "Largest request (Exec's, ExecStream's start message) in bytes; larger ones get "
          "INVALID_ARGUMENT. Stdin beyond it goes through ExecStream in chunks.");
ABSL_FLAG(absl::Duration, stream_start_timeout, absl::Seconds(5),
          "How long an ExecStream may take to send its start message before the call is "
          "ended; meanwhile it holds a place in the queue (--max_queued).");
ABSL_FLAG(std::string, replica, "",
          "This replica's name, which process and session ids carry (p-...@NAME) so that "
          "a call about one can be routed back here. Default: the host name (a pod's "
          "name in Kubernetes).");
ABSL_FLAG(int, max_processes_per_client, 16,
          "Processes started by id (StartProcess) that one client may keep at once, "
          "running or exited and not yet forgotten.");
ABSL_FLAG(int, max_processes_kept, 64,
          "Processes started by id that this replica keeps at once, for all clients.");
ABSL_FLAG(absl::Duration, process_idle_timeout, absl::Minutes(10),
          "How long a process started by id may go without a call about it before it is "
          "killed (or, once exited, forgotten); also the most a request may ask for.");
ABSL_FLAG(sandboxd::ByteSize, process_output_bytes, {1 << 20},
          "Bytes of each output stream of a process kept for reading (again).");
ABSL_FLAG(int, max_sessions_per_client, 8, "Sessions one client may keep open at once.");
ABSL_FLAG(int, max_sessions, 64, "Sessions this replica keeps open at once, for all clients.");
ABSL_FLAG(sandboxd::ByteSize, session_tmp_bytes, {uint64_t{1} << 30},
          "The size of a session's /tmp: a tmpfs, where the server may mount one (root "
          "with CAP_SYS_ADMIN), else a plain directory in --state_dir; 0: always a "
          "directory.");
ABSL_FLAG(absl::Duration, session_idle_timeout, absl::Minutes(30),
          "How long a session may go without a call and with no process running before "
          "it is closed (its processes killed, its /tmp removed); also the most a "
          "request may ask for.");
ABSL_FLAG(absl::Duration, stream_stall_timeout, absl::Seconds(30),
          "How long a file stream (ReadFile, WriteFile) may wait for its client to take "
          "or send a message before it is cancelled, its turn given back.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM or SIGINT, how long running commands may finish before they are "
          "killed.");

namespace sandboxd {
namespace {

[[noreturn]] void Die(const std::string& message) {
  LogLine line = NewLogLine("fatal");
  line.set_message(message);
  WriteLog(line);
  std::exit(1);
}

// A daemon started with 0, 1 or 2 closed would hand those numbers to its own pipes
// and sockets; keep them taken.
void KeepStdioOpen() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);
  }
}

// Room for the descriptors each running command holds open (its roots and covers,
// bound from descriptors): the soft limit goes up to the hard one, at most 65536.
void RaiseOpenFilesLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = std::max(limit.rlim_cur, std::min<rlim_t>(limit.rlim_max, 65536));
  setrlimit(RLIMIT_NOFILE, &limit);
}

// Whether `id` is mapped in this process's user namespace (`map` is /proc/self/uid_map
// or gid_map: "INSIDE OUTSIDE COUNT" lines). A container may map only root.
bool Maps(const std::string& map, uint32_t id) {
  std::istringstream in(ReadFileOrEmpty(map));
  uint64_t inside = 0, outside = 0, count = 0;
  while (in >> inside >> outside >> count) {
    if (id >= inside && id < inside + count) return true;
  }
  return false;
}

// The user commands run as when the server is root: --command_user, unless the
// operator asked for root with --danger_commands_as_root.
std::optional<HostUser> CommandUserFromFlags() {
  if (geteuid() != 0 || absl::GetFlag(FLAGS_danger_commands_as_root)) return std::nullopt;
  std::string name = absl::GetFlag(FLAGS_command_user);
  HostUser user{name};
  std::vector<std::string> ids = absl::StrSplit(name, ':');
  bool numeric = ids.size() == 2 && absl::SimpleAtoi(ids[0], &user.uid) &&
                 absl::SimpleAtoi(ids[1], &user.gid);
  if (!numeric) {
    const passwd* entry = getpwnam(name.c_str());
    if (entry == nullptr) {
      Die(absl::StrCat("--command_user=", name, " is no user of this host: create it "
                       "(useradd --system --no-create-home ", name, "; tools/setup.sh "
                       "does), name another (a name or UID:GID), or pass "
                       "--danger_commands_as_root"));
    }
    user.uid = entry->pw_uid;
    user.gid = entry->pw_gid;
  }
  if (user.uid == 0 || user.gid == 0) {
    Die(absl::StrCat("--command_user=", name, " is root's; name an unprivileged user, or "
                     "pass --danger_commands_as_root"));
  }
  if (!Maps("/proc/self/uid_map", user.uid) || !Maps("/proc/self/gid_map", user.gid)) {
    Die(absl::StrCat("--command_user=", name, " (", user.uid, ":", user.gid,
                     ") is not mapped in the server's user namespace (see "
                     "/proc/self/uid_map), so commands cannot become it; run the server "
                     "where it is, or pass --danger_commands_as_root"));
  }
  return user;
}

// The default --state_dir: /var/lib/sandboxd for root, else under the user's state
// home.
std::string DefaultStateDir() {
  if (geteuid() == 0) return "/var/lib/sandboxd";
  const char* state_home = std::getenv("XDG_STATE_HOME");
  if (state_home != nullptr && state_home[0] == '/') return absl::StrCat(state_home, "/sandboxd");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/' && access(home, W_OK) == 0) {
    return absl::StrCat(home, "/.local/state/sandboxd");
  }
  return absl::StrCat("/tmp/sandboxd-", geteuid(), "-state");
}

// Adds a file or directory of the server's own (a flag's value) to `paths`: absolute
// as given, and as what it resolves to now. Where a symlink leads there, the directory
// holding that symlink goes too: Kubernetes' secret volumes replace such a symlink when
// a secret changes, and the next version would lie beside the hidden one.
void AddServerPath(const std::string& value, std::vector<std::string>& paths) {
  if (value.empty()) return;
  std::error_code error;
  std::filesystem::path given = std::filesystem::absolute(value, error).lexically_normal();
  if (error) return;
  paths.push_back(given.string());
  std::filesystem::path canonical = std::filesystem::canonical(given, error);
  if (error || canonical == given) return;
  paths.push_back(canonical.string());
  std::string parent = given.parent_path().string();
  bool system = parent == "/";
  for (const char* dir : kNeverWritable) system = system || parent == dir;
  for (const char* dir : kSystemRoots) system = system || parent == dir;
  if (!system) paths.push_back(parent);
}

// Processes' bounds, from the flags.
ProcessBounds ProcessBoundsFromFlags() {
  ProcessBounds bounds;
  bounds.max_per_owner = absl::GetFlag(FLAGS_max_processes_per_client);
  bounds.max_total = absl::GetFlag(FLAGS_max_processes_kept);
  bounds.output_bytes = absl::GetFlag(FLAGS_process_output_bytes).bytes;
  if (bounds.max_per_owner < 0 || bounds.max_total < 0) {
    Die("--max_processes_per_client and --max_processes_kept must be at least 0");
  }
  return bounds;
}

// --replica, or the host's name.
std::string ReplicaName() {
  std::string name = absl::GetFlag(FLAGS_replica);
  if (name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    name = host;
  }
  if (!IsReplicaName(name)) {
    Die(absl::StrCat("--replica \"", name, "\" must be 1 to 253 of A-Z a-z 0-9 . _ -"));
  }
  return name;
}

// The server's own files and directories, which no command may see or write. Its
// launchers among them: a command that could swap their path could have a sandbox run
// something else in the verifier's place (see BwrapArgs).
std::vector<std::string> ServerPaths(const ListenAddress& address, const Config& config) {
  std::vector<std::string> paths;
  AddServerPath(config.launcher_path, paths);
  AddServerPath(config.landlock_exec_path, paths);
  for (const std::string& file :
       {absl::GetFlag(FLAGS_auth_tokens_file), absl::GetFlag(FLAGS_tls_cert),
        absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_tls_client_ca),
        absl::GetFlag(FLAGS_policy_file), absl::GetFlag(FLAGS_metrics_auth_file)}) {
    AddServerPath(file, paths);
  }
  if (!address.unix_path.empty()) {
    AddServerPath(address.unix_path.substr(0, address.unix_path.rfind('/')), paths);
  }
  AddServerPath(config.state_dir, paths);
  return paths;
}

// The paths of `paths` that `user` can reach: every directory on the way is one it may
// search, as the kernel decides it, ACLs and all (the server takes on the user's
// file-system ids for the check). Only those can be seen, or hidden, in its sandboxes:
// bwrap, running as that user, cannot even name the others to mount over them. The
// server (root, which needs none) drops its supplementary groups first, so that none
// lends the check a right the user lacks; the file-system ids are this thread's alone.
std::vector<std::string> ReachableBy(const HostUser& user, const std::vector<std::string>& paths) {
  if (setgroups(0, nullptr) != 0) Die("cannot drop the server's supplementary groups");
  syscall(SYS_setfsgid, user.gid);
  syscall(SYS_setfsuid, user.uid);
  std::vector<std::string> reachable;
  for (const std::string& path : paths) {
    std::string parent = path.substr(0, std::max<size_t>(path.rfind('/'), 1));
    if (faccessat(AT_FDCWD, parent.c_str(), X_OK, AT_EACCESS) == 0) reachable.push_back(path);
  }
  syscall(SYS_setfsuid, 0);
  syscall(SYS_setfsgid, 0);
  return reachable;
}

std::string BesideThisBinary(const std::string& name);

// What the commands' user needs of the state directory, where nothing else can reach
// it: the directory on which sandboxd-launch exposes a sandbox's descriptors in a mount
// namespace of the command's own (Config::bind_dir), and a copy of sandboxd-launch to
// check the sandbox from inside (Config::verifier_path; the installed one may lie where
// that user cannot go, as below root's home in a development checkout).
void PrepareStateDir(Config& config) {
  config.verifier_path = config.state_dir + "/sandboxd-launch";
  std::error_code error;
  std::filesystem::copy_file(config.launcher_path, config.verifier_path,
                             std::filesystem::copy_options::overwrite_existing, error);
  if (error || chmod(config.verifier_path.c_str(), 0755) != 0) {
    Die(absl::StrCat("cannot copy ", config.launcher_path, " to ", config.verifier_path, ": ",
                     error.message()));
  }
  config.helper_path = config.state_dir + "/sandboxd-helper";
  std::filesystem::copy_file(BesideThisBinary("sandboxd-helper"), config.helper_path,
                             std::filesystem::copy_options::overwrite_existing, error);
  if (error || chmod(config.helper_path.c_str(), 0755) != 0) {
    Die(absl::StrCat("cannot copy sandboxd-helper to ", config.helper_path, ": ",
                     error.message()));
  }
  config.bind_dir = config.state_dir + "/binds";
  if (mkdir(config.bind_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    Die(absl::StrCat("cannot create ", config.bind_dir, ": ", std::strerror(errno)));
  }
  if (const std::optional<HostUser>& user = config.command_user) {
    if (chmod(config.state_dir.c_str(), 0711) != 0 ||
        chown(config.bind_dir.c_str(), user->uid, user->gid) != 0) {
      Die(absl::StrCat("cannot give ", config.bind_dir, " to ", user->name, ": ",
                       std::strerror(errno)));
    }
    if (ReachableBy(*user, {config.bind_dir + "/.", config.verifier_path}).size() != 2) {
      Die(absl::StrCat(user->name, " (--command_user) cannot reach ", config.bind_dir,
                       ": every directory above --state_dir=", config.state_dir,
                       " must be one it may search (mode o+x)"));
    }
  }
}

// Why a command with the host's network could call the server with more authority
// than its request had, if it could (see Config::host_network_risk).
std::string HostNetworkRisk(const ListenAddress& address, const Config& config) {
  if (address.unix_path.empty() && absl::GetFlag(FLAGS_auth_tokens_file).empty() &&
      absl::GetFlag(FLAGS_tls_client_ca).empty()) {
    return absl::StrCat(
        "its listener ", address.uri, " takes calls without credentials, so a command on "
        "the host's network could call it back as the client \"local\"; listen on a Unix "
        "socket, or require tokens (--auth_tokens_file) or client certificates "
        "(--tls_client_ca)");
  }
  if (!absl::GetFlag(FLAGS_metrics_listen).empty() &&
      absl::GetFlag(FLAGS_metrics_auth_file).empty()) {
    return absl::StrCat("its metrics endpoint ", absl::GetFlag(FLAGS_metrics_listen),
                        " answers whoever reaches it, a command on the host's network "
                        "too; protect it with --metrics_auth_file");
  }
  if (config.backend == Backend::BACKEND_LANDLOCK && !config.command_user.has_value() &&
      !address.unix_path.empty()) {
    return absl::StrCat(
        "under the landlock backend its commands run as its own user, and Landlock cannot "
        "hide its socket ", address.unix_path, " from them; run the server as root (its "
        "commands then run as --command_user) or where the bwrap backend works");
  }
  return "";
}

// The server's TCP ports (gRPC, health, metrics), which the proxy never reaches on
// this host.
std::vector<int> OwnPorts(const ListenAddress& address) {
  std::vector<int> ports;
  std::vector<std::string> listeners = {absl::GetFlag(FLAGS_health_listen),
                                        absl::GetFlag(FLAGS_metrics_listen)};
  if (address.unix_path.empty()) listeners.push_back(address.uri);
  for (const std::string& listener : listeners) {
    int port = 0;
    size_t colon = listener.rfind(':');
    if (colon != std::string::npos && absl::SimpleAtoi(listener.substr(colon + 1), &port)) {
      ports.push_back(port);
    }
  }
  return ports;
}

// The proxy's settings from the --proxy_ flags (the hosts file read, to check it).
ProxySettings ProxySettingsFromFlags(const ListenAddress& address) {
  absl::StatusOr<ProxySettings> settings =
      LoadProxySettings(absl::GetFlag(FLAGS_proxy_allow_destination),
                        absl::GetFlag(FLAGS_proxy_hosts_file), OwnPorts(address));
  if (!settings.ok()) {
    Die(absl::StrCat("--proxy_allow_destination or --proxy_hosts_file: ",
                     settings.status().message()));
  }
  return *std::move(settings);
}

// sandboxd-proxy with `settings` as its flags; as the commands' user when the server is
// root.
std::shared_ptr<NetworkProxy> StartProxyProcess(const ProxySettings& settings,
                                                const Config& config) {
  std::vector<std::string> destinations;
  for (const Cidr& cidr : settings.allowed_destinations) destinations.push_back(cidr.ToString());
  std::vector<std::string> argv = {
      BesideThisBinary("sandboxd-proxy"),
      "--allow_destination=" + absl::StrJoin(destinations, ","),
      "--hosts_file=" + absl::GetFlag(FLAGS_proxy_hosts_file),
      "--own_port=" + absl::StrJoin(settings.own_ports, ",")};
  if (const std::optional<HostUser>& user = config.command_user) {
    argv.push_back(absl::StrCat("--user=", user->uid, ":", user->gid));
  }
  absl::StatusOr<std::unique_ptr<ProxyProcess>> proxy =
      ProxyProcess::Start(std::move(argv), DescribeReach(settings));
  if (!proxy.ok()) Die(absl::StrCat("cannot start the proxy: ", proxy.status().message()));
  return std::shared_ptr<NetworkProxy>(*std::move(proxy));
}

// --proxy and its settings; null with --proxy=off, and under the landlock backend,
// whose commands it cannot serve.
std::shared_ptr<NetworkProxy> ProxyFromFlags(const ListenAddress& address,
                                             const Config& config) {
  std::string mode = absl::GetFlag(FLAGS_proxy);
  if (mode != "off" && mode != "thread" && mode != "process") {
    Die("--proxy must be process, thread or off");
  }
  if (mode == "off" || config.backend != Backend::BACKEND_BWRAP) return nullptr;
  ProxySettings settings = ProxySettingsFromFlags(address);
  if (mode == "process") return StartProxyProcess(settings, config);
  absl::StatusOr<std::unique_ptr<Proxy>> proxy = Proxy::Start(std::move(settings));
  if (!proxy.ok()) Die(absl::StrCat("cannot start the proxy: ", proxy.status().message()));
  return std::shared_ptr<NetworkProxy>(*std::move(proxy));
}

// --proxy_allow_domain and the rest of the proxy's bounds on each request.
void ProxyRulesFromFlags(Config& config) {
  for (const auto& [flag, patterns] :
       {std::pair{"--proxy_allow_domain", &config.proxy_rules.allow},
        std::pair{"--proxy_deny_domain", &config.proxy_rules.deny}}) {
    absl::StatusOr<std::vector<HostPattern>> parsed = ParsePatterns(
        flag == std::string("--proxy_allow_domain") ? absl::GetFlag(FLAGS_proxy_allow_domain)
                                                    : absl::GetFlag(FLAGS_proxy_deny_domain),
        flag);
    if (!parsed.ok()) Die(std::string(parsed.status().message()));
    *patterns = *std::move(parsed);
  }
  config.proxy_rules.any_domain = config.proxy_rules.allow.empty();
  int64_t connections = absl::GetFlag(FLAGS_proxy_max_connections);
  if (connections < 1 || connections > 65536) Die("--proxy_max_connections must be 1 to 65536");
  config.proxy_max_connections = static_cast<uint32_t>(connections);
  config.proxy_max_bytes = absl::GetFlag(FLAGS_proxy_max_bytes).bytes;
  config.proxy_idle_timeout = absl::GetFlag(FLAGS_proxy_idle_timeout);
  if (config.proxy_idle_timeout < absl::Seconds(1)) Die("--proxy_idle_timeout must be at least 1s");
}

std::string BesideThisBinary(const std::string& name) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return name;
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + name;
}

// Picks the backend and /proc handling from the flags and what the host allows.
void ApplyHostFeatures(const HostFeatures& host, Config& config) {
  std::string backend = absl::GetFlag(FLAGS_backend);
  if (backend == "auto") {
    backend = host.user_namespaces ? "bwrap" : host.landlock_abi > 0 ? "landlock" : "none";
  }
  if (backend == "bwrap" && host.user_namespaces) {
    config.backend = Backend::BACKEND_BWRAP;
  } else if (backend == "landlock" && host.landlock_abi > 0) {
    config.backend = Backend::BACKEND_LANDLOCK;
  } else {
    Die(absl::StrCat("no sandbox backend works with --backend=", absl::GetFlag(FLAGS_backend),
                     " on this host: ", absl::StrJoin(host.notes, "; ")));
  }
  std::string proc = absl::GetFlag(FLAGS_proc);
  if (proc != "auto" && proc != "fresh" && proc != "empty") {
    Die(absl::StrCat("--proc=", proc, " is not auto, fresh or empty"));
  }
  config.mount_proc = proc == "fresh" || (proc == "auto" && host.proc_mount);
}

Config ConfigFromFlags() {
  Config config;
  config.bwrap_path = absl::GetFlag(FLAGS_bwrap);
  config.landlock_exec_path = absl::GetFlag(FLAGS_landlock_exec);
  config.launcher_path = BesideThisBinary("sandboxd-launch");
  std::string cgroup = absl::GetFlag(FLAGS_cgroup);
  if (cgroup != "auto" && cgroup != "none") Die("--cgroup must be auto or none");
  config.use_cgroups = cgroup == "auto";
  ProxyRulesFromFlags(config);
  config.prestarted_launchers = absl::GetFlag(FLAGS_prestart);
  if (config.prestarted_launchers < 0 || config.prestarted_launchers > 64) {
    Die("--prestart must be between 0 and 64");
  }
  if (config.landlock_exec_path.empty()) {
    config.landlock_exec_path = BesideThisBinary("sandboxd-landlock-exec");
  }
  config.danger_landlock_unprotected_paths =
      absl::GetFlag(FLAGS_danger_landlock_unprotected_paths);
  std::string mode = absl::GetFlag(FLAGS_default_mode);
  if (mode == "read-only") {
    config.default_mode = SandboxMode::READ_ONLY;
  } else if (mode == "workspace-write") {
    config.default_mode = SandboxMode::WORKSPACE_WRITE;
  } else {
    Die(absl::StrCat("--default_mode=", mode, " is not read-only or workspace-write"));
  }
  config.allow_danger_full_access = absl::GetFlag(FLAGS_allow_danger_full_access);
  for (const std::string& name : absl::GetFlag(FLAGS_protected_names)) {
    if (!name.empty()) config.protected_names.push_back(name);
  }
  for (const std::string& path : absl::GetFlag(FLAGS_deny_read)) {
    if (path.empty()) continue;
    if (path[0] != '/') Die(absl::StrCat("--deny_read path ", path, " must be absolute"));
    config.deny_read.push_back(path);
  }
  config.private_tmp = absl::GetFlag(FLAGS_private_tmp);
  for (const std::string& path : absl::GetFlag(FLAGS_danger_writable_system_paths)) {
    if (path.empty()) continue;
    absl::StatusOr<std::string> canonical =
        CanonicalExistingPath(path, "--danger_writable_system_paths entry");
    if (!canonical.ok()) Die(std::string(canonical.status().message()));
    config.writable_system_paths.push_back(*std::move(canonical));
  }
  config.state_dir = absl::GetFlag(FLAGS_state_dir);
  if (config.state_dir.empty()) config.state_dir = DefaultStateDir();
  if (config.state_dir[0] != '/') Die("--state_dir must be absolute");
  config.command_user = CommandUserFromFlags();
  config.max_limits.cpu_time = absl::GetFlag(FLAGS_max_cpu_time);
  config.max_limits.memory_bytes = absl::GetFlag(FLAGS_max_memory_bytes).bytes;
  config.max_limits.file_size_bytes = absl::GetFlag(FLAGS_max_file_size_bytes).bytes;
  for (auto [flag, out] :
       {std::pair{absl::GetFlag(FLAGS_max_open_files), &config.max_limits.open_files},
        std::pair{absl::GetFlag(FLAGS_max_processes), &config.max_limits.processes}}) {
    if (flag < 0) Die("--max_open_files and --max_processes must be >= 0");
    *out = static_cast<uint64_t>(flag);
  }
  if (config.max_limits.cpu_time < absl::ZeroDuration()) Die("--max_cpu_time must be >= 0");
  config.default_timeout = absl::GetFlag(FLAGS_default_timeout);
  config.max_timeout = absl::GetFlag(FLAGS_max_timeout);
  config.default_output_limit = absl::GetFlag(FLAGS_default_output_limit).bytes;
  config.max_output_limit = absl::GetFlag(FLAGS_max_output_limit).bytes;
  if (config.default_timeout <= absl::ZeroDuration() ||
      config.default_timeout > config.max_timeout) {
    Die("--default_timeout must be positive and at most --max_timeout");
  }
  if (config.default_output_limit > config.max_output_limit) {
    Die("--default_output_limit must be at most --max_output_limit");
  }
  return config;
}

std::string ReadFileOrDie(const std::string& path, const char* flag) {
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) {
    Die(absl::StrCat("cannot read ", flag, "=", path, ": ", content.status().message()));
  }
  return *std::move(content);
}

// How the server listens: with TLS when --tls_cert and --tls_key are given, mutual TLS
// with --tls_client_ca.
struct Transport {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  bool tls = false;
};

Transport TransportFromFlags() {
  std::string cert = absl::GetFlag(FLAGS_tls_cert), key = absl::GetFlag(FLAGS_tls_key);
  std::string client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  if (cert.empty() != key.empty()) Die("--tls_cert and --tls_key go together");
  if (cert.empty()) {
    if (!client_ca.empty()) Die("--tls_client_ca needs --tls_cert and --tls_key");
    return {grpc::InsecureServerCredentials(), false};
  }
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(
      {ReadFileOrDie(key, "--tls_key"), ReadFileOrDie(cert, "--tls_cert")});
  if (!client_ca.empty()) {
    options.pem_root_certs = ReadFileOrDie(client_ca, "--tls_client_ca");
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return {grpc::SslServerCredentials(options), true};
}

void LogHost(const HostFeatures& host, const Config& config, const Runner& runner) {
  LogLine line = NewLogLine("host");
  line.set_backend(LogName(config.backend));
  line.set_bwrap_version(host.bwrap_version);
  line.set_user_namespaces(host.user_namespaces);
  line.set_proc(config.mount_proc ? "fresh" : "empty");
  line.set_landlock_abi(host.landlock_abi);
  line.set_seccomp(host.seccomp);
  line.set_cgroups(runner.cgroup_note());
  line.set_network_namespaces(runner.netns_note());
  for (const std::string& note : host.notes) line.add_notes(note);
  if (config.danger_landlock_unprotected_paths && config.backend == Backend::BACKEND_LANDLOCK) {
    line.add_dangers("protected paths inside writable roots stay writable");
  }
  WriteLog(line);
}

// Keepalive both ways: the server pings connections that go quiet (an ExecStream of a
// command that prints nothing for minutes), and lets clients ping as often as
// --keepalive_min_client_interval, also between calls.
void AddKeepalive(grpc::ServerBuilder& builder) {
  auto millis = [](absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); };
  absl::Duration time = absl::GetFlag(FLAGS_keepalive_time);
  if (time > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, millis(time));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                               millis(absl::GetFlag(FLAGS_keepalive_timeout)));
  }
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             millis(absl::GetFlag(FLAGS_keepalive_min_client_interval)));
}

// The plaintext listener of --health_listen, serving `health` alone; null without
// the flag, or when it cannot listen.
std::unique_ptr<grpc::Server> StartProbeHealth(ProbeHealth& health) {
  std::string listen = absl::GetFlag(FLAGS_health_listen);
  if (listen.empty()) return nullptr;
  // Any HOST:PORT: it serves nothing but health, to anyone.
  absl::StatusOr<ListenAddress> address = ParseListenAddress(listen, /*tls=*/true);
  if (!address.ok() || !address->unix_path.empty()) {
    Die(absl::StrCat("--health_listen=", listen, " must be HOST:PORT, e.g. 0.0.0.0:8081"));
  }
  // gRPC's own health service would be registered here too, beside ours.
  grpc::EnableDefaultHealthCheckService(false);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address->uri, grpc::InsecureServerCredentials());
  builder.RegisterService(&health);
  builder.SetMaxReceiveMessageSize(4096);
  return builder.BuildAndStart();
}

[[noreturn]] void Serve() {
  // Block the shutdown signals in every thread (gRPC's threads inherit this mask);
  // the main thread takes them with sigwait.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  KeepStdioOpen();
  RaiseOpenFilesLimit();

  // Every flag and file is checked before the runner starts launchers and makes
  // cgroups: Die() exits without the runner's clean-up.
  Config config = ConfigFromFlags();
  Transport transport = TransportFromFlags();
  std::string listen = absl::GetFlag(FLAGS_listen);
  absl::StatusOr<ListenAddress> address =
      ParseListenAddress(listen.empty() ? DefaultListenAddress() : listen, transport.tls);
  if (!address.ok()) Die(std::string(address.status().message()));
  absl::StatusOr<SocketAccess> socket_access =
      ParseSocketAccess(absl::GetFlag(FLAGS_socket_group));
  if (!socket_access.ok()) Die(std::string(socket_access.status().message()));
  if (!address->unix_path.empty()) {
    if (absl::Status s = PrepareUnixSocket(address->unix_path, *socket_access); !s.ok()) {
      Die(std::string(s.message()));
    }
  } else if (socket_access->group.has_value()) {
    Die("--socket_group needs a Unix socket (--listen=unix:/path)");
  }

  CallBounds bounds{absl::GetFlag(FLAGS_max_concurrent), absl::GetFlag(FLAGS_max_queued)};
  if (bounds.max_concurrent < 1 || bounds.max_queued < 0) {
    Die("--max_concurrent must be at least 1 and --max_queued at least 0");
  }
  bounds.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes).bytes;
  if (bounds.max_request_bytes < 4096 || bounds.max_request_bytes > (size_t{1} << 30)) {
    Die("--max_request_bytes must be at least 4096 and at most 1GiB");
  }
  bounds.start_wait = absl::GetFlag(FLAGS_stream_start_timeout);
  if (bounds.start_wait <= absl::ZeroDuration()) Die("--stream_start_timeout must be positive");
  bounds.stream_stall = absl::GetFlag(FLAGS_stream_stall_timeout);
  if (bounds.stream_stall <= absl::ZeroDuration()) Die("--stream_stall_timeout must be positive");
  bounds.process_idle = absl::GetFlag(FLAGS_process_idle_timeout);
  bounds.session_idle = absl::GetFlag(FLAGS_session_idle_timeout);
  if (bounds.process_idle <= absl::ZeroDuration() || bounds.session_idle <= absl::ZeroDuration()) {
    Die("--process_idle_timeout and --session_idle_timeout must be positive");
  }
  absl::StatusOr<Authenticator> auth = Authenticator::Create(
      absl::GetFlag(FLAGS_auth_tokens_file), !absl::GetFlag(FLAGS_tls_client_ca).empty());
  if (!auth.ok()) Die(std::string(auth.status().message()));
  std::unique_ptr<Metrics> metrics;
  if (std::string address = absl::GetFlag(FLAGS_metrics_listen); !address.empty()) {
    std::string credentials;
    if (std::string file = absl::GetFlag(FLAGS_metrics_auth_file); !file.empty()) {
      credentials = std::string(
          absl::StripAsciiWhitespace(ReadFileOrDie(file, "--metrics_auth_file")));
      if (credentials.find(':') == std::string::npos) {
        Die("--metrics_auth_file must hold USER:PASSWORD");
      }
    }
    absl::StatusOr<std::unique_ptr<Metrics>> started = Metrics::Start(address, credentials);
    if (!started.ok()) Die(std::string(started.status().message()));
    metrics = *std::move(started);
  }
  OperatorPolicy operator_policy;
  if (std::string path = absl::GetFlag(FLAGS_policy_file); !path.empty()) {
    absl::StatusOr<OperatorPolicy> loaded = OperatorPolicy::Load(path, config.proxy_rules);
    if (!loaded.ok()) Die(std::string(loaded.status().message()));
    operator_policy = *std::move(loaded);
  }

  std::vector<std::string> as_command_user;
  if (config.command_user.has_value()) {
    as_command_user = {config.launcher_path, "--user",
                       absl::StrCat(config.command_user->uid, ":", config.command_user->gid),
                       "--"};
  }
  HostFeatures host = DetectHostFeatures(config.bwrap_path, as_command_user);
  ApplyHostFeatures(host, config);
  std::error_code error;
  std::filesystem::create_directories(
      std::filesystem::path(config.state_dir).parent_path(), error);
  if (mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    Die(absl::StrCat("cannot create --state_dir=", config.state_dir, ": ", std::strerror(errno)));
  }
  PrepareStateDir(config);
  config.server_paths = ServerPaths(*address, config);
  config.hidden_server_paths = config.server_paths;
  if (config.command_user.has_value()) {
    config.hidden_server_paths = ReachableBy(*config.command_user, config.server_paths);
    config.deny_read = ReachableBy(*config.command_user, config.deny_read);
  }
  config.host_network_risk = HostNetworkRisk(*address, config);
  absl::StatusOr<Runner> created = Runner::Create(config, ProxyFromFlags(*address, config));
  if (!created.ok()) Die(absl::StrCat("cannot start the runner: ", created.status().message()));
  std::optional<Runner> runner(*std::move(created));
  LogHost(host, config, *runner);
  std::optional<ProcessTable> processes;
  processes.emplace(*runner, ProcessBoundsFromFlags(), ReplicaName());
  absl::StatusOr<std::unique_ptr<SessionTable>> sessions = SessionTable::Create(
      config.state_dir + "/sessions", config.command_user, *processes,
      SessionBounds{absl::GetFlag(FLAGS_max_sessions_per_client),
                    absl::GetFlag(FLAGS_max_sessions),
                    absl::GetFlag(FLAGS_session_tmp_bytes).bytes});
  if (!sessions.ok()) Die(std::string(sessions.status().message()));
  SandboxServiceImpl service(*runner, host, *std::move(auth), std::move(operator_policy),
                             metrics.get(), bounds, AgentTables{&*processes, sessions->get()});
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address->uri, transport.credentials, &port);
  builder.RegisterService(&service);
  // Requests a little over --max_request_bytes still reach the service, which says
  // what to do instead; gRPC refuses anything larger with RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<size_t>(INT32_MAX, bounds.max_request_bytes + (1 << 20))));
  // gRPC's sync server keeps at most MAX_POLLERS (default 2) threads idle: under
  // concurrent requests, each handler thread that finished exited and a new one was
  // made for a later request (80 of each in 4 s at 8 concurrent Execs). Every Exec
  // blocks a thread for its command's run anyway, so keep that many.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              absl::GetFlag(FLAGS_max_concurrent) + 2);
  AddKeepalive(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    runner.reset();
    Die(absl::StrCat("cannot listen on ", address->uri));
  }
  if (absl::Status s = ShareUnixSocket(address->unix_path, *socket_access); !s.ok()) {
    runner.reset();
    Die(std::string(s.message()));
  }
  ProbeHealth probe_health;
  std::unique_ptr<grpc::Server> health_server = StartProbeHealth(probe_health);
  if (health_server == nullptr && !absl::GetFlag(FLAGS_health_listen).empty()) {
    runner.reset();
    Die(absl::StrCat("cannot listen on --health_listen=", absl::GetFlag(FLAGS_health_listen)));
  }

  LogLine line = NewLogLine("listening");
  line.set_address(address->uri);
  line.set_health(absl::GetFlag(FLAGS_health_listen));
  line.set_metrics(absl::GetFlag(FLAGS_metrics_listen));
  line.set_default_mode(absl::GetFlag(FLAGS_default_mode));
  for (const std::string& name : config.protected_names) line.add_protected_names(name);
  line.set_commands_run_as(runner->command_user_note());
  if (!config.host_network_risk.empty()) {
    line.set_network_enabled(absl::StrCat("refused: ", config.host_network_risk));
  }
  if (config.allow_danger_full_access) line.add_dangers("requests may disable the sandbox");
  if (geteuid() == 0 && !config.command_user.has_value()) {
    line.add_dangers("commands run as root (--danger_commands_as_root)");
  }
  WriteLog(line);

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  LogLine stopping = NewLogLine("shutting_down");
  stopping.set_signal(signal_number);
  WriteLog(stopping);
  // Drain while still answering: health says NOT_SERVING (load balancers and probes
  // move on), new commands are refused with UNAVAILABLE, running ones get the grace.
  server->GetHealthCheckService()->SetServingStatus(false);
  probe_health.StartDraining();
  service.StartDraining();
  // What is left after the grace is killed, so its calls return with a CANCELLED
  // result; gRPC cancels only calls that still hang after that. gRPC also waits for
  // connected clients to hang up, up to the deadline: with our calls done, a second is
  // plenty.
  if (!service.WaitIdle(absl::Now() + absl::GetFlag(FLAGS_shutdown_grace))) service.CancelAll();
  // Processes started by id do not outlive their server, nor do sessions.
  service.EndAgents();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Wait();
  if (health_server != nullptr) health_server->Shutdown(std::chrono::system_clock::now());
  // The pre-started launchers and every command cgroup go with the runner, after
  // what runs through it.
  sessions->reset();
  processes.reset();
  runner.reset();
  WriteLog(NewLogLine("stopped"));
  // Nothing of ours is left to clean up. gRPC's own teardown, which runs when its last
  // object goes, can wait for seconds on an executor thread that still polls a
  // connection a client left open (seen with gRPC 1.51): the process ends here instead.
  _exit(0);
}

}  // namespace
}  // namespace sandboxd

int main(int argc, char** argv) {
  sandboxd::KeepLargeBuffersInHeap();
  absl::SetProgramUsageMessage(
      "Serves sandbox.v1.SandboxService: runs commands inside a bubblewrap sandbox.\n"
      "Usage: sandboxd [--listen=unix:/path | --listen=127.0.0.1:PORT] [flags]");
  absl::ParseCommandLine(argc, argv);
  sandboxd::Serve();
}
