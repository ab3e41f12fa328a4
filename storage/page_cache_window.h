// Drop-behind for a segment's log file: whole pages start their writeback soon after they are
// written, and what lies more than a window behind the end of the file is evicted from the
// page cache once it is on disk.
//
// Why: a broker that lets the page cache grow with every byte it ingests allocates a new page
// for each 4 KiB written. Where memory is cheap to take that costs little, but on VMs whose
// freed memory goes back to the host (virtio-balloon free page reporting, as on these
// machines) the first touch of each new page costs a host fault, ~12 us per 4 KiB: a plain
// 1 MiB-at-a-time file writer ran at ~260 MB/s and 3.2 CPU-s/GB, the same writer with this
// window at ~2,000 MB/s and 0.25 CPU-s/GB, because the pages it evicts are the ones the next
// writes get back. The cost: consumers more than a window behind the end of a partition read
// from disk rather than from memory, which is why the broker leaves it off unless configured
// (docs/ARCHITECTURE.md has the measurements).
#pragma once

#include <cstdint>
#include <mutex>

#include "absl/status/status.h"
#include "storage/file.h"

namespace gregor::storage {

// Thread-safety: advance() may be called from any thread; a call that finds another one under
// way returns at once (the next append catches up), so appenders never queue behind a wait.
class PageCacheWindow {
 public:
  // Writeback is started in steps of at least this many bytes of whole pages: kicking it for
  // every small append would write the same partial last page over and over.
  static constexpr int64_t kStepBytes = 256 * 1024;

  // `size` is the file's current size; `window` the bytes to keep cached at its end (<= 0:
  // keep everything, as Kafka does). Waits only for the writeback of pages that are a
  // window old, which normally finished long before.
  void advance(const File& file, int64_t size, int64_t window);

  // The first writeback error seen here. The kernel reports a writeback error once per open
  // file, so once sync_file_range has seen one a later fdatasync may return success:
  // Segment::flush() must ask here too.
  absl::Status error();

 private:
  std::mutex mu_;
  int64_t writeback_from_ = 0;  // pages before this have had their writeback started
  int64_t cached_from_ = 0;     // pages before this were evicted
  absl::Status error_;
};

}  // namespace gregor::storage
