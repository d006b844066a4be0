#include "sandbox/net/netns.h"

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/read_file.h"

namespace sandboxd {

bool NoSocketCounted(const std::string& sockstat) {
  for (absl::string_view line : absl::StrSplit(sockstat, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    for (size_t i = 1; i + 1 < words.size(); i += 2) {
      if ((words[i] == "inuse" || words[i] == "tw") && words[i + 1] != "0") return false;
    }
  }
  return true;
}

// Unix sockets are listed one per line under a header (a launcher's orders socket was
// made in the server's namespace). For the others, sockstat's "inuse" (and TCP's "tw")
// count this namespace's; its other figures are host-wide. Listing the TCP sockets
// instead would walk the host's whole table: 7 ms here.
bool NetnsHoldsNoSocket(pid_t pid) {
  std::string dir = absl::StrCat("/proc/", pid, "/net/");
  absl::StatusOr<std::string> unix_sockets = ReadFile(dir + "unix");
  if (!unix_sockets.ok() ||
      absl::StrContains(absl::StripTrailingAsciiWhitespace(*unix_sockets), '\n')) {
    return false;
  }
  absl::StatusOr<std::string> v4 = ReadFile(dir + "sockstat");
  if (!v4.ok() || !NoSocketCounted(*v4)) return false;
  absl::StatusOr<std::string> v6 = ReadFile(dir + "sockstat6");
  return !v6.ok() || NoSocketCounted(*v6);  // A host without IPv6 has no sockstat6.
}

}  // namespace sandboxd
