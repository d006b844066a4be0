#ifndef SANDBOXD_SANDBOX_INSIDE_PROTOCOL_H_
#define SANDBOXD_SANDBOX_INSIDE_PROTOCOL_H_

// How the server talks to sandboxd-helper, the program it runs inside a sandbox, as
// the command, for terminals and file calls (helper_main.cc). Header-only: the static
// helper and the server both include it.
//
// Input: the helper's stdin carries frames, each a 5-byte header (the type, then the
// payload's length as 4 bytes little-endian) and the payload:
//   kData    bytes: for the terminal's input, or the file being written
//   kResize  4 bytes: rows, then columns, 2 bytes little-endian each (terminal only)
//   kEnd     no payload: the input is complete (a file write commits; a terminal
//            gets its end-of-file character)
// End of file on stdin before kEnd means the writer went away: a file write then
// leaves the target untouched. Anything else is malformed (kHelperInvalidArgument): an
// unknown type, a payload over kMaxFramePayload, a kResize of other than 4 bytes, a
// kEnd with a payload, a kResize in a file write.
//
// Output: a terminal's output is stdout, raw. A file read's bytes are stdout, raw. Any
// other file operation writes FileInfo messages (sandbox.v1), each preceded by its
// length as a varint (protobuf's delimited form), on stdout.
//
// Failures: the helper exits with one of HelperExit and says why in one line on stderr.

#include <cstddef>
#include <cstdint>
#include <string>

namespace sandboxd {

enum class FrameType : char {
  kData = 'd',
  kResize = 'r',
  kEnd = 'e',
};

inline constexpr size_t kFrameHeaderBytes = 5;
// The largest payload of one frame.
inline constexpr uint32_t kMaxFramePayload = uint32_t{4} << 20;

// The header of a frame of `type` whose payload is `length` bytes.
inline std::string FrameHeader(FrameType type, uint32_t length) {
  std::string header(kFrameHeaderBytes, '\0');
  header[0] = static_cast<char>(type);
  for (int i = 0; i < 4; ++i) header[1 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return header;
}

// The payload of a kResize frame.
inline std::string ResizePayload(uint16_t rows, uint16_t cols) {
  return {static_cast<char>(rows & 0xff), static_cast<char>(rows >> 8),
          static_cast<char>(cols & 0xff), static_cast<char>(cols >> 8)};
}

// Exit statuses of the helper's file operations; each is the gRPC code the server
// answers with (0 is OK). A terminal's helper exits as its command did instead.
enum HelperExit : int {
  kHelperOk = 0,
  kHelperInvalidArgument = 3,    // INVALID_ARGUMENT: a malformed path, argument or frame.
  kHelperNotFound = 5,           // NOT_FOUND: ENOENT.
  kHelperAlreadyExists = 6,      // ALREADY_EXISTS: EEXIST.
  kHelperPermissionDenied = 7,   // PERMISSION_DENIED: EACCES, EPERM, EROFS.
  kHelperResourceExhausted = 8,  // RESOURCE_EXHAUSTED: ENOSPC, EDQUOT, EFBIG.
  kHelperFailedPrecondition = 9, // FAILED_PRECONDITION: a symlink on the way (ELOOP),
                                 // ENOTDIR, EISDIR, ENOTEMPTY, EXDEV, not a regular file.
  kHelperAborted = 10,           // ABORTED: the input ended without kEnd.
  kHelperInternal = 13,          // INTERNAL: anything else.
};

// Where the helper is bound inside a sandbox (like the verifier, in the sandbox's own
// /dev, which nothing outside it can change).
inline constexpr char kHelperPathInSandbox[] = "/dev/.sandboxd-helper";

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_INSIDE_PROTOCOL_H_
