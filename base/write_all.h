#ifndef SANDBOXD_BASE_WRITE_ALL_H_
#define SANDBOXD_BASE_WRITE_ALL_H_

#include "absl/strings/string_view.h"

namespace sandboxd {

// Writes all of `data` to `fd`, again after EINTR and short writes; false once a write
// fails or writes nothing (the reader is gone).
bool WriteAll(int fd, absl::string_view data);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_WRITE_ALL_H_
