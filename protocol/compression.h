// Compression codecs of record batch v2 (attributes bits 0-2): gzip, snappy, lz4 (frame), zstd.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gregor::protocol {

enum class Compression : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

// Compresses `input` in the framing Kafka clients expect: gzip (RFC 1952), raw snappy
// (as librdkafka writes it), the LZ4 frame format, a zstd frame.
absl::StatusOr<std::string> compress(Compression codec, std::string_view input);

// Decompresses; snappy input may be raw or xerial-framed (Java clients). Output is bounded by
// `max_output` so that a compression bomb is refused with an error instead of exhausting memory.
// Errors: absl::DataLossError for corrupt or truncated input (never a crash),
// absl::ResourceExhaustedError when the output would exceed max_output, InvalidArgument for an
// unknown codec. gzip accepts concatenated members, lz4 and zstd concatenated frames.
absl::StatusOr<std::string> decompress(Compression codec, std::string_view input,
                                       size_t max_output);

}  // namespace gregor::protocol
