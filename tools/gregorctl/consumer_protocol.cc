// Decoding and encoding of the consumer protocol's Subscription and Assignment bytes.
#include "tools/gregorctl/consumer_protocol.h"

#include "absl/strings/str_cat.h"
#include "protocol/wire.h"

namespace gregor::tools {

namespace {

std::vector<TopicPartitions> read_topic_partitions(protocol::Reader& r) {
  std::vector<TopicPartitions> out;
  int32_t topics = r.array_length(false);
  for (int32_t i = 0; i < topics && r.ok(); ++i) {
    TopicPartitions tp;
    tp.topic = r.string(false);
    int32_t n = r.array_length(false);
    for (int32_t j = 0; j < n && r.ok(); ++j) tp.partitions.push_back(r.int32());
    out.push_back(std::move(tp));
  }
  return out;
}

void write_topic_partitions(protocol::Writer& w, const std::vector<TopicPartitions>& list) {
  w.array_length(static_cast<int32_t>(list.size()), false);
  for (const TopicPartitions& tp : list) {
    w.string(tp.topic, false);
    w.array_length(static_cast<int32_t>(tp.partitions.size()), false);
    for (int32_t p : tp.partitions) w.int32(p);
  }
}

absl::Status malformed(const char* what) {
  return absl::DataLossError(absl::StrCat("malformed consumer protocol ", what));
}

}  // namespace

absl::StatusOr<ConsumerAssignment> decode_consumer_assignment(std::string_view bytes) {
  ConsumerAssignment a;
  if (bytes.empty()) return a;
  protocol::Reader r(bytes);
  a.version = r.int16();
  if (r.ok() && a.version < 0) return malformed("assignment");
  a.partitions = read_topic_partitions(r);
  // Some hand-written assignors end the bytes before user_data; nothing is lost reading that
  // as null, and a describe should not fail over it.
  if (r.ok() && r.remaining() > 0) a.user_data = r.nullable_bytes(false);
  if (!r.ok()) return malformed("assignment");
  return a;
}

absl::StatusOr<ConsumerSubscription> decode_consumer_subscription(std::string_view bytes) {
  ConsumerSubscription s;
  if (bytes.empty()) return s;
  protocol::Reader r(bytes);
  s.version = r.int16();
  if (r.ok() && s.version < 0) return malformed("subscription");
  int32_t topics = r.array_length(false);
  for (int32_t i = 0; i < topics && r.ok(); ++i) s.topics.push_back(r.string(false));
  if (r.ok() && r.remaining() > 0) s.user_data = r.nullable_bytes(false);
  if (s.version >= 1 && r.ok() && r.remaining() > 0) s.owned_partitions = read_topic_partitions(r);
  if (s.version >= 2 && r.ok() && r.remaining() > 0) s.generation_id = r.int32();
  if (s.version >= 3 && r.ok() && r.remaining() > 0) s.rack_id = r.nullable_string(false);
  if (!r.ok()) return malformed("subscription");
  return s;
}

std::string encode_consumer_assignment(const ConsumerAssignment& a) {
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int16(a.version);
  write_topic_partitions(w, a.partitions);
  w.nullable_bytes(a.user_data, false);
  return out.flatten();
}

std::string encode_consumer_subscription(const ConsumerSubscription& s) {
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int16(s.version);
  w.array_length(static_cast<int32_t>(s.topics.size()), false);
  for (const std::string& t : s.topics) w.string(t, false);
  w.nullable_bytes(s.user_data, false);
  if (s.version >= 1) write_topic_partitions(w, s.owned_partitions);
  if (s.version >= 2) w.int32(s.generation_id);
  if (s.version >= 3) w.nullable_string(s.rack_id, false);
  return out.flatten();
}

}  // namespace gregor::tools
