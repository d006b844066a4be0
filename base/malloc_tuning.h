#ifndef SANDBOXD_BASE_MALLOC_TUNING_H_
#define SANDBOXD_BASE_MALLOC_TUNING_H_

namespace sandboxd {

// Makes glibc's malloc keep large blocks (up to 32 MiB) in its heaps instead of
// mapping and unmapping each one. Streamed output moves through buffers of up to
// 1 MiB several times per chunk (the read, the message, gRPC's serialized copy, and
// the same again in the client); mapped afresh each time, every 4 KiB page of them
// costs a page fault and a zeroing, which halved the streaming rate. It also bounds
// the arenas, so that what bursts freed can go back to the system (malloc_trim).
// Call it first thing in main, before any thread starts.
void KeepLargeBuffersInHeap();

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_MALLOC_TUNING_H_
