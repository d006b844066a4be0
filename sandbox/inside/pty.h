#ifndef SANDBOXD_SANDBOX_INSIDE_PTY_H_
#define SANDBOXD_SANDBOX_INSIDE_PTY_H_

#include <cstdint>
#include <string>
#include <vector>

// The helper's terminal: `sandboxd-helper pty ROWS COLS -- PROGRAM [ARGS...]` runs
// PROGRAM on a new terminal and relays between it and the helper's own stdio.

namespace sandboxd {

struct TerminalCommand {
  uint16_t rows = 24;
  uint16_t cols = 80;
  // PROGRAM (searched in PATH) and its arguments; it inherits the environment.
  std::vector<std::string> argv;
};

// Runs `command` as the leader of a new session whose controlling terminal is a new
// pseudo-terminal of rows x cols (from /dev/ptmx: bwrap's --dev gives each sandbox a
// devpts of its own), with it as stdin, stdout and stderr and no other descriptor,
// default signal dispositions and an empty signal mask. Until the command exits:
//  - stdin carries frames (protocol.h): kData goes to the terminal, kResize resizes it
//    (the kernel sends SIGWINCH to its foreground process group), kEnd or the end of
//    stdin sends the terminal's end-of-file character (VEOF, ^D) once, as if typed:
//    a shell at its prompt exits, a command reading the terminal sees its input end
//    (typed ahead while a shell runs a command, it may be lost, as on any terminal:
//    the shell's readline reads it as a plain byte). Input the command does not read
//    backs up, at most ~256 KiB in the helper, then in the server's pipe.
//  - the terminal's output goes to stdout, all of it.
//  - SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to the helper go on to
//    the terminal's foreground process group (else the command's).
// Then it returns the command's exit code, or 128+N if signal N killed it, once what
// the terminal held is relayed; it does not wait for other processes that keep the
// terminal open. A command that cannot be executed reports why on the terminal and
// makes it 127 (not found) or 126; a terminal that cannot be made is 126, on stderr.
// A malformed frame (kHelperInvalidArgument) or a stdout that has no reader any more
// (kHelperInternal) kills the command's session and exits the helper at once.
int RunOnTerminal(const TerminalCommand& command);

}  // namespace sandboxd

#endif  // SANDBOXD_SANDBOX_INSIDE_PTY_H_
