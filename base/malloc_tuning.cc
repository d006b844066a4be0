#include "base/malloc_tuning.h"

#include <malloc.h>

namespace sandboxd {

void KeepLargeBuffersInHeap() {
  // A fixed threshold also turns off glibc's own adjustment, which only catches up
  // after the first block of each size has been mapped and freed.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Free memory at the top of a heap is given back only past this much, so that a
  // stream's buffers are reused rather than faulted in again; it bounds what an idle
  // process keeps after a burst.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
}

}  // namespace sandboxd
