#ifndef SANDBOXD_BASE_LANDLOCK_H_
#define SANDBOXD_BASE_LANDLOCK_H_

#include <linux/landlock.h>

#include <cstdint>

namespace sandboxd {

// Landlock rights and scopes newer than Debian bookworm's kernel headers.
inline constexpr uint64_t kLandlockTruncate = 1ULL << 14;          // ABI 3.
inline constexpr uint64_t kLandlockIoctlDev = 1ULL << 15;          // ABI 5.
inline constexpr uint64_t kLandlockBindTcp = 1ULL << 0;            // ABI 4, network.
inline constexpr uint64_t kLandlockConnectTcp = 1ULL << 1;         // ABI 4, network.
inline constexpr uint64_t kLandlockScopeAbstractUnix = 1ULL << 0;  // ABI 6.
inline constexpr uint64_t kLandlockScopeSignal = 1ULL << 1;        // ABI 6.

// The ruleset attributes as of ABI 6; an older kernel takes it with the fields it does
// not know zero.
struct LandlockRulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

// Every file-system right the kernel's Landlock ABI `abi` knows.
inline uint64_t LandlockHandledFs(long abi) {
  uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0-12.
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= kLandlockTruncate;
  if (abi >= 5) rights |= kLandlockIoctlDev;
  return rights;
}

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_LANDLOCK_H_
