// Client-side framing: builds request frames and splits response frames into header and body.
#include "tools/gregorctl/frame.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "protocol/wire.h"

namespace gregor::tools {

std::string encode_request_frame(const RequestHeader& header, std::string_view body) {
  assert(header.header_version == 1 || header.header_version == 2);
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int32(0);  // size, patched below
  w.int16(header.api_key);
  w.int16(header.api_version);
  w.int32(header.correlation_id);
  // client_id stays a classic int16-length string even in header v2 (KIP-482).
  w.string(header.client_id, /*compact=*/false);
  if (header.header_version >= 2) w.empty_tagged_fields();
  w.raw(body);
  std::string frame = out.flatten();
  uint32_t size = static_cast<uint32_t>(frame.size() - 4);
  for (int i = 0; i < 4; ++i)
    frame[static_cast<size_t>(i)] = static_cast<char>(size >> (24 - 8 * i));
  return frame;
}

absl::StatusOr<ResponseView> decode_response_frame(std::string_view frame, int16_t header_version) {
  protocol::Reader r(frame);
  ResponseView out;
  out.correlation_id = r.int32();
  if (header_version >= 1) r.skip_tagged_fields();
  if (!r.ok()) return absl::DataLossError("truncated response header");
  out.body = frame.substr(frame.size() - r.remaining());
  return out;
}

absl::StatusOr<int32_t> decode_frame_size(std::string_view prefix4, int32_t max_bytes) {
  if (prefix4.size() != 4) return absl::InternalError("frame size prefix must be 4 bytes");
  protocol::Reader r(prefix4);
  int32_t size = r.int32();
  if (size < 4) return absl::DataLossError(absl::StrCat("bad response size ", size));
  if (size > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("response of ", size,
                                                     " bytes exceeds the limit of ", max_bytes,
                                                     " (is this a Kafka listener?)"));
  }
  return size;
}

}  // namespace gregor::tools
