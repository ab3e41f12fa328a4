// Kafka request/response framing for the client side: the 4-byte size prefix, request header
// v1/v2 and response header v0/v1. Bodies are encoded elsewhere (the generated codecs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gregor::tools {

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::string client_id;
  int16_t header_version = 1;  // 1 classic, 2 flexible (adds empty tagged fields)
};

// Returns size prefix + header + body, ready to write to the socket.
std::string encode_request_frame(const RequestHeader& header, std::string_view body);

struct ResponseView {
  int32_t correlation_id = 0;
  std::string_view body;  // views the frame passed to decode_response_frame
};

// Splits a response frame (without its size prefix) into header and body. Header v1 ends with
// tagged fields, which are skipped.
absl::StatusOr<ResponseView> decode_response_frame(std::string_view frame, int16_t header_version);

// Reads the 4-byte size prefix; rejects negative sizes and sizes above `max_bytes` so that a
// wrong port or a hostile peer cannot make us allocate gigabytes.
absl::StatusOr<int32_t> decode_frame_size(std::string_view prefix4, int32_t max_bytes);

}  // namespace gregor::tools
