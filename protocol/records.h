// The `records` field type of Produce and Fetch: batch bytes that are either a view into a
// buffer someone else owns (a request frame, or memory kept alive by `owner`) or, in fetch
// responses, slices of segment files that the connection sends with sendfile(2).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/wire.h"

namespace gregor::protocol {

struct Records {
  std::optional<std::string_view> bytes;  // nullopt and no slices: the null value
  std::vector<FileSlice> slices;          // sent after `bytes`
  std::shared_ptr<const void> owner;      // keeps `bytes` alive, if needed

  bool is_null() const { return !bytes && slices.empty(); }
  int64_t size() const {
    int64_t n = bytes ? static_cast<int64_t>(bytes->size()) : 0;
    for (const FileSlice& s : slices) n += s.size;
    return n;
  }
  // Writes the length prefix (int32 or compact uvarint) and then the bytes and slices.
  void encode(Writer& w, bool compact) const {
    if (is_null()) {
      if (compact) {
        w.uvarint(0);
      } else {
        w.int32(-1);
      }
      return;
    }
    int64_t n = size();
    if (compact) {
      w.uvarint(static_cast<uint32_t>(n + 1));
    } else {
      w.int32(static_cast<int32_t>(n));
    }
    if (bytes) w.raw(*bytes);
    for (const FileSlice& s : slices) w.append_file(s);
  }
  // The result views the reader's buffer: it is valid while that buffer lives.
  void decode(Reader& r, bool compact) {
    slices.clear();
    bytes = r.nullable_bytes_view(compact);
  }
};

}  // namespace gregor::protocol
