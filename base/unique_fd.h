#ifndef SANDBOXD_BASE_UNIQUE_FD_H_
#define SANDBOXD_BASE_UNIQUE_FD_H_

#include <unistd.h>

#include <memory>
#include <utility>

namespace sandboxd {

// Owns a file descriptor and closes it when destroyed. -1 means none.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives the descriptor up to the caller, who closes it.
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A descriptor several owners keep open (a plan and its copies); closed with the last.
using SharedFd = std::shared_ptr<const UniqueFd>;

inline SharedFd Share(UniqueFd fd) { return std::make_shared<const UniqueFd>(std::move(fd)); }

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_UNIQUE_FD_H_
