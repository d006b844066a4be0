#ifndef SANDBOXD_SERVER_ALARMS_H_
#define SANDBOXD_SERVER_ALARMS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sandboxd {

// Runs callbacks at their time, on one thread that serves every call: an ExecStream
// whose client sends no start message is ended by one. Thread-safe.
class Alarms {
 public:
  // Until destroyed, its callback runs once at its time.
  class Armed {
   public:
    Armed(Alarms& alarms, uint64_t id) : alarms_(&alarms), id_(id) {}
    Armed(Armed&& other) noexcept : alarms_(other.alarms_), id_(other.id_) {
      other.alarms_ = nullptr;
    }
    Armed& operator=(Armed&&) = delete;
    // Disarms: once it returns, the callback has run to its end or never will. Do not
    // hold a lock the callback takes.
    ~Armed();

   private:
    Alarms* alarms_;
    uint64_t id_;
  };

  Alarms();
  ~Alarms();

  // `fire` runs at `when` on the alarms' thread; it must not block.
  Armed Set(absl::Time when, std::function<void()> fire);

 private:
  struct Entry {
    absl::Time when;
    std::function<void()> fire;
  };
  void Run();

  absl::Mutex mu_;
  std::map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sandboxd

#endif  // SANDBOXD_SERVER_ALARMS_H_
