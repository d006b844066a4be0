#ifndef SANDBOXD_CLIENT_TERMINAL_H_
#define SANDBOXD_CLIENT_TERMINAL_H_

#include <signal.h>
#include <termios.h>

#include <cstdint>
#include <memory>

#include "client/connection.h"
#include "sandbox/v1/sandbox.pb.h"

// `sandboxctl exec -t`: a command on a terminal in the sandbox, driven from this one.

namespace sandboxd {

// This terminal in raw mode (cfmakeraw) for as long as the object lives: every byte
// typed goes to the program as it is, Ctrl-C included, and nothing is echoed here.
// The settings it found are put back when it goes away, and also when the process dies
// of SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT (from a signal handler), or calls
// RestoreNow first (before _exit).
class RawTerminal {
 public:
  // Raw mode on `fd`; nullptr when `fd` is not a terminal (nothing changes then).
  static std::unique_ptr<RawTerminal> Enter(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  // Puts back the settings found, if a RawTerminal is active; async-signal-safe.
  static void RestoreNow();

 private:
  RawTerminal() = default;
};

// The size of the terminal on stdin (else stdout): rows and columns, or 24 x 80 when
// neither is one.
struct TerminalSize {
  uint32_t rows = 24;
  uint32_t cols = 80;
};
TerminalSize LocalTerminalSize();

// The signals RunOnTerminal handles: SIGWINCH (resizes the remote terminal), SIGINT
// and SIGQUIT (sent on to the command's foreground job), SIGTERM and SIGHUP (hang the
// remote terminal up and end sandboxctl, restoring this terminal; without a terminal
// here they are sent on, as exec does). Block them in every thread before any gRPC
// object exists, and hand the set to RunOnTerminal.
sigset_t TerminalSignals();

// Starts `request` on a terminal in the sandbox (StartProcess, the size of this one,
// TERM from $TERM) and relays until it exits: stdin to it byte by byte as typed, its
// output to stdout as it comes (a ReadProcess long-poll), SIGWINCH as ResizeTerminal.
// When stdin reaches its end, the command's is closed. Stdin in raw mode when it is a
// terminal, else as it is. Returns what `sandboxctl exec` exits with (ExitCodeFor),
// or kExitClientError having said why.
int RunOnTerminal(const Connection& connection, const sandbox::v1::ExecRequest& request,
                  const sigset_t& signals);

}  // namespace sandboxd

#endif  // SANDBOXD_CLIENT_TERMINAL_H_
