// Encoding of __consumer_offsets keys and values, and the group -> partition hash.
#include "coordinator/group_records.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "protocol/messages/group_metadata_key.h"
#include "protocol/messages/offset_commit_key.h"
#include "storage/file.h"

namespace gregor::coordinator {
namespace {

constexpr int16_t kOffsetKeyVersion = 1;
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kOffsetValueWithExpiryVersion = 1;
constexpr int16_t kGroupValueVersion = 3;

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i. A malformed
// sequence yields U+FFFD and consumes one byte.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int extra = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + extra >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += extra + 1;
  return cp;
}

template <typename Msg>
std::string encode_versioned(int16_t version, const Msg& msg, int16_t msg_version) {
  protocol::OutputBuffer out;
  protocol::Writer w(out);
  w.int16(version);
  msg.encode(w, msg_version);
  return out.flatten();
}

template <typename Msg>
absl::StatusOr<Msg> decode_value(std::string_view bytes, const char* what) {
  protocol::Reader r(bytes);
  const int16_t version = r.int16();
  if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": truncated version"));
  if (version < Msg::kMinVersion || version > Msg::kMaxVersion) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": unknown version ", version));
  }
  Msg msg;
  msg.decode(r, version);
  if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": malformed v", version));
  return msg;
}

}  // namespace

int32_t java_string_hash(std::string_view utf8) {
  uint32_t h = 0;  // unsigned: Java's int arithmetic wraps
  size_t i = 0;
  while (i < utf8.size()) {
    const uint32_t cp = next_code_point(utf8, i);
    if (cp >= 0x10000) {
      const uint32_t v = cp - 0x10000;
      h = 31 * h + (0xD800 + (v >> 10));
      h = 31 * h + (0xDC00 + (v & 0x3FF));
    } else {
      h = 31 * h + cp;
    }
  }
  return static_cast<int32_t>(h);
}

int32_t offsets_partition_for(std::string_view group_id, int32_t partitions) {
  GREGOR_INVARIANT(partitions > 0);
  const int32_t h = java_string_hash(group_id);
  const int32_t abs = h == std::numeric_limits<int32_t>::min() ? 0 : (h < 0 ? -h : h);
  return abs % partitions;
}

std::string encode_offset_key(const OffsetKey& key) {
  protocol::msg::OffsetCommitKey k;
  k.group = key.group;
  k.topic = key.topic;
  k.partition = key.partition;
  return encode_versioned(kOffsetKeyVersion, k, 0);
}

std::string encode_group_key(const GroupKey& key) {
  protocol::msg::GroupMetadataKey k;
  k.group = key.group;
  return encode_versioned(kGroupKeyVersion, k, 0);
}

absl::StatusOr<RecordKey> decode_key(std::string_view bytes) {
  protocol::Reader r(bytes);
  const int16_t version = r.int16();
  if (!r.ok()) return absl::InvalidArgumentError("__consumer_offsets key: truncated version");
  if (version == 0 || version == 1) {
    protocol::msg::OffsetCommitKey k;
    k.decode(r, 0);
    if (!r.ok()) return absl::InvalidArgumentError("__consumer_offsets key: malformed offset key");
    return OffsetKey{std::move(k.group), std::move(k.topic), k.partition};
  }
  if (version == 2) {
    protocol::msg::GroupMetadataKey k;
    k.decode(r, 0);
    if (!r.ok()) return absl::InvalidArgumentError("__consumer_offsets key: malformed group key");
    return GroupKey{std::move(k.group)};
  }
  return absl::InvalidArgumentError(
      absl::StrCat("__consumer_offsets key: unknown key version ", version));
}

std::string encode_offset_value(const protocol::msg::OffsetCommitValue& value) {
  const int16_t v =
      value.expire_timestamp >= 0 ? kOffsetValueWithExpiryVersion : kOffsetValueVersion;
  return encode_versioned(v, value, v);
}

std::string encode_group_value(const protocol::msg::GroupMetadataValue& value) {
  return encode_versioned(kGroupValueVersion, value, kGroupValueVersion);
}

absl::StatusOr<protocol::msg::OffsetCommitValue> decode_offset_value(std::string_view bytes) {
  return decode_value<protocol::msg::OffsetCommitValue>(bytes, "OffsetCommitValue");
}

absl::StatusOr<protocol::msg::GroupMetadataValue> decode_group_value(std::string_view bytes) {
  return decode_value<protocol::msg::GroupMetadataValue>(bytes, "GroupMetadataValue");
}

}  // namespace gregor::coordinator
