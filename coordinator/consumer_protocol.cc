// Reads the topic list out of a consumer's subscription bytes (client-written, so untrusted).
#include "coordinator/consumer_protocol.h"

#include "protocol/wire.h"

namespace gregor::coordinator {

std::optional<std::set<std::string>> parse_subscribed_topics(std::string_view metadata) {
  protocol::Reader r(metadata);
  const int16_t version = r.int16();
  if (!r.ok() || version < 0) return std::nullopt;
  const int32_t count = r.array_length(/*compact=*/false);
  if (!r.ok() || count < 0) return std::nullopt;
  std::set<std::string> topics;
  for (int32_t i = 0; i < count; ++i) {
    std::string topic = r.string(/*compact=*/false);
    if (!r.ok()) return std::nullopt;
    topics.insert(std::move(topic));
  }
  return topics;
}

}  // namespace gregor::coordinator
