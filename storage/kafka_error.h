// Storage errors that must reach the client as one precise Kafka error code (idempotence and
// transactions: OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE, ...).
// They travel as absl::Status FailedPrecondition carrying the code as a payload, which the
// broker's error mapping looks for before mapping by status code. Header-only; no state.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "protocol/error_codes.h"

namespace gregor::storage {

inline constexpr char kKafkaErrorPayloadUrl[] = "gregor/kafka-error";

inline absl::Status kafka_error(protocol::ErrorCode code, std::string_view message) {
  absl::Status s(absl::StatusCode::kFailedPrecondition,
                 absl::string_view(message.data(), message.size()));
  s.SetPayload(kKafkaErrorPayloadUrl, absl::Cord(std::to_string(protocol::code(code))));
  return s;
}

// The code kafka_error() attached, or nullopt for any other status.
inline std::optional<protocol::ErrorCode> kafka_error_code(const absl::Status& status) {
  auto payload = status.GetPayload(kKafkaErrorPayloadUrl);  // absl::optional on Debian
  if (!payload) return std::nullopt;
  std::string text(*payload);
  int16_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return static_cast<protocol::ErrorCode>(v);
}

}  // namespace gregor::storage
