// Phrases for the per-topic errors an operator meets most; anything else falls back to the
// verb and Kafka's error name.
#include "tools/gregorctl/topic_errors.h"

#include <algorithm>
#include <cassert>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "protocol/error_codes.h"

namespace gregor::tools {

using protocol::ErrorCode;

std::string error_name(int16_t code) {
  std::string name(protocol::error_message(static_cast<ErrorCode>(code)));
  // error_message() answers "KAFKA_ERROR" for codes it has no name for.
  if (name.empty() || name == "KAFKA_ERROR") return absl::StrCat("UNKNOWN_ERROR_", code);
  return name;
}

namespace {

std::string phrase(TopicVerb verb, std::string_view topic, int16_t code) {
  std::string quoted = absl::StrCat("'", std::string(topic), "'");
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kTopicAlreadyExists:
      return absl::StrCat("topic ", quoted, " already exists");
    case ErrorCode::kUnknownTopicOrPartition:
    case ErrorCode::kUnknownTopicId:
      return absl::StrCat("topic ", quoted, " does not exist");
    case ErrorCode::kInvalidTopicException:
      return absl::StrCat("invalid topic name ", quoted);
    case ErrorCode::kInvalidPartitions:
      return absl::StrCat("invalid number of partitions for topic ", quoted);
    case ErrorCode::kInvalidReplicationFactor:
      return absl::StrCat("invalid replication factor for topic ", quoted);
    case ErrorCode::kInvalidReplicaAssignment:
      return absl::StrCat("invalid replica assignment for topic ", quoted);
    case ErrorCode::kInvalidConfig:
      return absl::StrCat("invalid config for topic ", quoted);
    case ErrorCode::kPolicyViolation:
      return absl::StrCat("topic ", quoted, " violates the broker's policy");
    case ErrorCode::kTopicAuthorizationFailed:
      return absl::StrCat("not authorized to access topic ", quoted);
    default:
      break;
  }
  switch (verb) {
    case TopicVerb::kCreate:
      return absl::StrCat("cannot create topic ", quoted);
    case TopicVerb::kDelete:
      return absl::StrCat("cannot delete topic ", quoted);
    case TopicVerb::kDescribe:
      return absl::StrCat("cannot describe topic ", quoted);
  }
  return absl::StrCat("topic ", quoted);
}

// True when the broker's message adds nothing to our phrase (same words, case and final
// period aside), so we do not print the same sentence twice.
std::string_view strip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool says_the_same(std::string_view ours, std::string_view theirs) {
  theirs = strip(theirs);
  if (!theirs.empty() && theirs.back() == '.') theirs.remove_suffix(1);
  return ours.size() == theirs.size() &&
         std::equal(ours.begin(), ours.end(), theirs.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

std::string describe_topic_error(TopicVerb verb, std::string_view topic, int16_t code,
                                 const std::optional<std::string>& broker_message) {
  assert(code != 0);
  std::string text = phrase(verb, topic, code);
  std::string_view theirs = broker_message ? strip(*broker_message) : std::string_view();
  if (!theirs.empty() && !says_the_same(text, theirs)) {
    text += ": ";
    text += theirs;
  }
  absl::StrAppend(&text, " (", error_name(code), ")");
  return text;
}

}  // namespace gregor::tools
