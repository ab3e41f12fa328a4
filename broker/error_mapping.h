// How internal absl::Status codes become the Kafka error codes clients expect. Storage and
// metadata use the status codes documented in their headers; this is the one translation.
#pragma once

#include "absl/status/status.h"
#include "protocol/error_codes.h"

namespace gregor::broker {

// DataLoss -> CORRUPT_MESSAGE, InvalidArgument -> INVALID_RECORD,
// ResourceExhausted -> MESSAGE_TOO_LARGE, OutOfRange -> OFFSET_OUT_OF_RANGE,
// AlreadyExists -> TOPIC_ALREADY_EXISTS, NotFound -> UNKNOWN_TOPIC_OR_PARTITION,
// Unavailable/Internal/anything else -> KAFKA_STORAGE_ERROR.
protocol::ErrorCode error_for(const absl::Status& status);

}  // namespace gregor::broker
