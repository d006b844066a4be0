#ifndef SANDBOXD_BASE_ERRNO_STATUS_H_
#define SANDBOXD_BASE_ERRNO_STATUS_H_

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sandboxd {

// INTERNAL, saying what failed and errno's words: for the kernel refusing what should
// not fail (pipes, descriptors, process handles). Call it before anything else can
// change errno.
inline absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_ERRNO_STATUS_H_
