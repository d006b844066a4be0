#include "sandbox/session/ids.h"

#include <sys/random.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sandboxd {
namespace {

constexpr size_t kRandomBytes = 16;

const char* Noun(const char* kind) { return kind[0] == 's' ? "session" : "process"; }

}  // namespace

std::string NewId(const char* kind, const std::string& replica) {
  char bytes[kRandomBytes];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return absl::StrCat(kind, "-", absl::BytesToHexString(absl::string_view(bytes, sizeof bytes)),
                      "@", replica);
}

bool IsReplicaName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string ReplicaOf(const std::string& id) {
  size_t at = id.find('@');
  if (at == std::string::npos) return "";
  std::string replica = id.substr(at + 1);
  return IsReplicaName(replica) ? replica : "";
}

absl::Status CheckId(const std::string& id, const char* kind, const std::string& replica) {
  size_t at = id.find('@');
  std::string prefix = absl::StrCat(kind, "-");
  bool well_formed = at == prefix.size() + 2 * kRandomBytes && absl::StartsWith(id, prefix);
  for (size_t i = prefix.size(); well_formed && i < at; ++i) {
    well_formed = absl::ascii_isxdigit(static_cast<unsigned char>(id[i]));
  }
  // The replica goes back to the caller in metadata: only characters that may.
  if (!well_formed || !IsReplicaName(id.substr(std::min(at + 1, id.size())))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", id, "\" is not a ", Noun(kind), " id (they look like ", prefix,
        "<32 hex digits>@<replica>, as the call that made it returned)"));
  }
  std::string holder = id.substr(at + 1);
  if (holder != replica) {
    return absl::FailedPreconditionError(absl::StrCat(
        Noun(kind), " ", id, " lives on replica ", holder, ", and this is replica ", replica,
        ": send calls about it to ", holder, " (route on the sandboxd-replica header, "
        "see deploy/k8s/README.md)"));
  }
  return absl::OkStatus();
}

}  // namespace sandboxd
