// Phrases for the group errors an operator meets; anything else falls back to Kafka's name.
#include "tools/gregorctl/group_errors.h"

#include <cassert>

#include "absl/strings/str_cat.h"
#include "protocol/error_codes.h"
#include "tools/gregorctl/topic_errors.h"

namespace gregor::tools {

using protocol::ErrorCode;

std::string describe_group_error(std::string_view group, int16_t code) {
  assert(code != 0);
  std::string quoted = absl::StrCat("'", std::string(group), "'");
  std::string text;
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kGroupIdNotFound:
      text = absl::StrCat("group ", quoted, " does not exist");
      break;
    case ErrorCode::kNonEmptyGroup:
      text = absl::StrCat("group ", quoted, " is not empty");
      break;
    case ErrorCode::kInvalidGroupId:
      text = absl::StrCat("invalid group id ", quoted);
      break;
    case ErrorCode::kGroupAuthorizationFailed:
      text = absl::StrCat("not authorized to access group ", quoted);
      break;
    case ErrorCode::kCoordinatorNotAvailable:
    case ErrorCode::kNotCoordinator:
    case ErrorCode::kCoordinatorLoadInProgress:
      text = absl::StrCat("the coordinator of group ", quoted, " is not ready");
      break;
    case ErrorCode::kUnknownMemberId:
    case ErrorCode::kIllegalGeneration:
    case ErrorCode::kRebalanceInProgress:
      text = absl::StrCat("group ", quoted, " has active members");
      break;
    default:
      text = absl::StrCat("group ", quoted);
  }
  return absl::StrCat(text, " (", error_name(code), ")");
}

std::string describe_partition_error(std::string_view topic, int32_t partition, int16_t code) {
  assert(code != 0);
  std::string where = absl::StrCat("partition '", std::string(topic), "-", partition, "'");
  std::string text;
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kUnknownTopicOrPartition:
      text = absl::StrCat(where, " does not exist");
      break;
    case ErrorCode::kNotLeaderOrFollower:
    case ErrorCode::kLeaderNotAvailable:
      text = absl::StrCat(where, " has no leader right now");
      break;
    default:
      text = where;
  }
  return absl::StrCat(text, " (", error_name(code), ")");
}

bool is_retriable_group_error(int16_t code) {
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kCoordinatorNotAvailable:
    case ErrorCode::kNotCoordinator:
    case ErrorCode::kCoordinatorLoadInProgress:
      return true;
    default:
      return false;
  }
}

}  // namespace gregor::tools
