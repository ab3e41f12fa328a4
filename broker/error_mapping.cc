// absl::Status -> Kafka ErrorCode.
#include "broker/error_mapping.h"

#include "storage/kafka_error.h"

namespace gregor::broker {

protocol::ErrorCode error_for(const absl::Status& status) {
  using protocol::ErrorCode;
  if (std::optional<ErrorCode> precise = storage::kafka_error_code(status)) return *precise;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return ErrorCode::kNone;
    case absl::StatusCode::kDataLoss:
      return ErrorCode::kCorruptMessage;
    case absl::StatusCode::kInvalidArgument:
      return ErrorCode::kInvalidRecord;
    case absl::StatusCode::kResourceExhausted:
      return ErrorCode::kMessageTooLarge;
    case absl::StatusCode::kOutOfRange:
      return ErrorCode::kOffsetOutOfRange;
    case absl::StatusCode::kAlreadyExists:
      return ErrorCode::kTopicAlreadyExists;
    case absl::StatusCode::kNotFound:
      return ErrorCode::kUnknownTopicOrPartition;
    default:
      return ErrorCode::kKafkaStorageError;
  }
}

}  // namespace gregor::broker
