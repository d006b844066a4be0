#ifndef SANDBOXD_BASE_CONSTANT_TIME_H_
#define SANDBOXD_BASE_CONSTANT_TIME_H_

#include "absl/strings/string_view.h"

namespace sandboxd {

// Compares without leaking, through timing, how much of `a` matches `b`: for secrets
// (tokens, passwords). The length is not secret enough to hide; the content is.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_CONSTANT_TIME_H_
