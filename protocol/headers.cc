// Request and response header codecs.
#include "protocol/headers.h"

namespace gregor::protocol {

void decode_request_header_prefix(Reader& r, RequestHeader& h) {
  h.api_key = r.int16();
  h.api_version = r.int16();
  h.correlation_id = r.int32();
}

void decode_request_header_rest(Reader& r, int16_t header_version, RequestHeader& h) {
  if (header_version >= 1) h.client_id = r.nullable_string(/*compact=*/false);
  if (header_version >= 2) r.skip_tagged_fields();
}

void encode_request_header(Writer& w, const RequestHeader& h, int16_t header_version) {
  w.int16(h.api_key);
  w.int16(h.api_version);
  w.int32(h.correlation_id);
  if (header_version >= 1) w.nullable_string(h.client_id, /*compact=*/false);
  if (header_version >= 2) w.empty_tagged_fields();
}

void encode_response_header(Writer& w, int32_t correlation_id, int16_t header_version) {
  w.int32(correlation_id);
  if (header_version >= 1) w.empty_tagged_fields();
}

int32_t decode_response_header(Reader& r, int16_t header_version) {
  int32_t id = r.int32();
  if (header_version >= 1) r.skip_tagged_fields();
  return id;
}

}  // namespace gregor::protocol
