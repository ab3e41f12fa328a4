// Reading and writing offset checkpoint files, strict about their shape.
#include "storage/checkpoint_file.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "storage/file.h"

namespace gregor::storage {

namespace {
template <typename T>
bool parse_int(std::string_view s, T* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

absl::StatusOr<OffsetCheckpoint> read_checkpoint(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return OffsetCheckpoint{};
    return absl::UnavailableError("cannot read " + path.string());
  }
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat(path.string(), ": ", std::string(why)));
  };
  std::string line;
  int version = -1;
  if (!std::getline(in, line) || !parse_int(line, &version) || version != 0) {
    return bad("unsupported version");
  }
  int64_t count = -1;
  if (!std::getline(in, line) || !parse_int(line, &count) || count < 0) return bad("bad count");
  OffsetCheckpoint result;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::getline(in, line)) return bad("fewer entries than the count");
    std::istringstream fields(line);
    std::string topic, partition_s, offset_s, extra;
    int32_t partition;
    int64_t offset;
    if (!(fields >> topic >> partition_s >> offset_s) || (fields >> extra) ||
        !parse_int(partition_s, &partition) || !parse_int(offset_s, &offset) || partition < 0) {
      return bad(absl::StrCat("malformed line ", i + 3));
    }
    result[{topic, partition}] = offset;
  }
  return result;
}

absl::Status write_checkpoint(const std::filesystem::path& path, const OffsetCheckpoint& offsets) {
  std::string text = absl::StrCat("0\n", offsets.size(), "\n");
  for (const auto& [tp, offset] : offsets) {
    absl::StrAppend(&text, tp.first, " ", tp.second, " ", offset, "\n");
  }
  return write_file_atomically(path, text);
}

}  // namespace gregor::storage
