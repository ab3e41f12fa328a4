// Request header v0-v2 and response header v0-v1 (RequestHeader.json / ResponseHeader.json).
// client_id keeps its classic int16 length even in the flexible header v2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/wire.h"

namespace gregor::protocol {

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
};

// Reads api_key, api_version and correlation_id: present in every header version, so they can
// be read before the version of the rest is known.
void decode_request_header_prefix(Reader& r, RequestHeader& h);
// Reads the rest of a header of `header_version` (1: client_id, 2: client_id + tagged fields).
void decode_request_header_rest(Reader& r, int16_t header_version, RequestHeader& h);
void encode_request_header(Writer& w, const RequestHeader& h, int16_t header_version);

void encode_response_header(Writer& w, int32_t correlation_id, int16_t header_version);
// Returns the correlation id; skips tagged fields for header v1.
int32_t decode_response_header(Reader& r, int16_t header_version);

}  // namespace gregor::protocol
