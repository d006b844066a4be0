#include "base/malloc_tuning.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>

namespace sandboxd {

void KeepLargeBuffersInHeap() {
  // A fixed threshold also turns off glibc's own adjustment, which only catches up
  // after the first block of each size has been mapped and freed.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Free memory at the top of a heap is given back only past this much, so that a
  // stream's buffers are reused rather than faulted in again; it bounds what an idle
  // process keeps after a burst.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  // Each arena keeps up to that much at its top, and glibc makes up to 8 per core, each
  // thread picking one: after a burst of streams the process kept tens of MiB it no
  // longer used, which malloc_trim gives back only for the main arena. One arena per
  // core keeps what an idle server holds small; more would only matter to threads
  // that run at once, and there are no more of those than cores.
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2L, cores)));
}

}  // namespace sandboxd
