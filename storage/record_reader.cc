// for_each_record(_in_batches): read whole batches from the log and decode their records.
#include "storage/record_reader.h"

#include <string>

#include "fmt/format.h"

namespace gregor::storage {
namespace {

constexpr int64_t kReadChunk = 8 << 20;

}  // namespace

absl::Status for_each_record(const Log& log, int64_t from_offset, size_t max_batch_bytes,
                             const std::function<absl::Status(const protocol::Record&)>& fn) {
  return for_each_record_in_batches(
      log, from_offset, max_batch_bytes,
      [&fn](const protocol::RecordBatchHeader&, const protocol::Record& r) { return fn(r); });
}

absl::Status for_each_record_in_batches(
    const Log& log, int64_t from_offset, size_t max_batch_bytes,
    const std::function<absl::Status(const protocol::RecordBatchHeader&, const protocol::Record&)>&
        fn) {
  int64_t offset = std::max(from_offset, log.log_start_offset());
  const int64_t end = log.log_end_offset();
  while (offset < end) {
    absl::StatusOr<ReadInfo> read = log.read(offset, kReadChunk, /*min_one_batch=*/true);
    if (!read.ok()) return read.status();
    protocol::OutputBuffer buf;
    for (const protocol::FileSlice& s : read->slices) buf.append_file(s);
    std::string bytes = buf.flatten();
    std::string_view rest = bytes;
    const int64_t before = offset;
    while (rest.size() >= protocol::kBatchHeaderSize) {
      absl::StatusOr<protocol::RecordBatchHeader> h = protocol::parse_batch_header(rest);
      if (!h.ok() || h->total_size() > rest.size()) break;
      absl::StatusOr<std::vector<protocol::Record>> records =
          protocol::decode_records(rest.substr(0, h->total_size()), max_batch_bytes);
      if (!records.ok()) return records.status();
      for (const protocol::Record& r : *records) {
        if (r.offset < offset) continue;  // the batch holding `offset` may start before it
        if (absl::Status s = fn(*h, r); !s.ok()) return s;
      }
      offset = h->last_offset() + 1;
      rest.remove_prefix(h->total_size());
    }
    if (offset == before) {
      return absl::DataLossError(
          fmt::format("{}: unreadable batch at offset {}", log.dir().string(), offset));
    }
  }
  return absl::OkStatus();
}

}  // namespace gregor::storage
