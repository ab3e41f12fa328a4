// Kafka's primitive wire encodings: big-endian fixed ints, zig-zag varints, unsigned varints,
// classic and compact strings/bytes/arrays, UUIDs and tagged fields (KIP-482).
// Writer appends to an OutputBuffer; Reader is a bounds-checked cursor with a sticky error flag
// so that generated decoders can read straight through and check ok() once at the end.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::protocol {

using Uuid = std::array<uint8_t, 16>;

// A byte range of an open file, sent with sendfile(2) instead of being copied into memory.
// keep_alive holds whatever owns the descriptor (a segment) until the bytes are sent.
struct FileSlice {
  int fd = -1;
  int64_t position = 0;
  int64_t size = 0;
  std::shared_ptr<const void> keep_alive;
};

// The encoded form of a message: in-memory chunks interleaved with file slices.
// A plain request or response is a single memory chunk.
class OutputBuffer {
 public:
  struct Part {
    std::string memory;  // used when file.fd < 0
    FileSlice file;
  };

  std::string& tail();  // memory chunk that writes go to
  void append_file(FileSlice slice);
  const std::vector<Part>& parts() const { return parts_; }
  int64_t size() const;
  // All bytes as one string; file slices are read with pread. For tests and small messages.
  std::string flatten() const;

 private:
  std::vector<Part> parts_;
};

class Writer {
 public:
  explicit Writer(OutputBuffer& out) : out_(out) {}

  void int8(int8_t v) { out_.tail().push_back(static_cast<char>(v)); }
  void int16(int16_t v) { be(static_cast<uint16_t>(v)); }
  void uint16(uint16_t v) { be(v); }
  void int32(int32_t v) { be(static_cast<uint32_t>(v)); }
  void uint32(uint32_t v) { be(v); }
  void int64(int64_t v) { be(static_cast<uint64_t>(v)); }
  void float64(double v);
  void boolean(bool v) { int8(v ? 1 : 0); }
  void uvarint(uint32_t v);
  void uvarlong(uint64_t v);
  void varint(int32_t v);
  void varlong(int64_t v);
  void uuid(const Uuid& v) { raw(v.data(), v.size()); }
  void raw(const void* data, size_t n) { out_.tail().append(static_cast<const char*>(data), n); }
  void raw(std::string_view s) { out_.tail().append(s); }

  // Classic: int16 length (-1 null). Compact: uvarint length+1 (0 null).
  void string(std::string_view s, bool compact);
  void nullable_string(const std::optional<std::string>& s, bool compact);
  // Classic: int32 length (-1 null). Compact: uvarint length+1 (0 null).
  void bytes(std::string_view b, bool compact);
  void nullable_bytes(const std::optional<std::string>& b, bool compact);
  // Array length prefix; -1 (classic) or 0 (compact) means null.
  void array_length(int32_t n, bool compact);
  void empty_tagged_fields() { uvarint(0); }

  void append_file(FileSlice slice) { out_.append_file(std::move(slice)); }
  OutputBuffer& buffer() { return out_; }

 private:
  template <typename T>
  void be(T v) {
    char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>(v >> (8 * (sizeof(T) - 1 - i)));
    out_.tail().append(b, sizeof(T));
  }
  OutputBuffer& out_;
};

// Reads from a byte range that the caller keeps alive. Any read past the end, or a negative
// length where none is allowed, sets the error flag and returns a zero value; later reads
// keep failing. Callers check ok() after decoding a whole message.
class Reader {
 public:
  Reader(const char* data, size_t size) : p_(data), end_(data + size) {}
  explicit Reader(std::string_view s) : Reader(s.data(), s.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }
  void fail() {
    ok_ = false;
    p_ = end_;
  }

  int8_t int8() { return static_cast<int8_t>(be<uint8_t>()); }
  int16_t int16() { return static_cast<int16_t>(be<uint16_t>()); }
  uint16_t uint16() { return be<uint16_t>(); }
  int32_t int32() { return static_cast<int32_t>(be<uint32_t>()); }
  uint32_t uint32() { return be<uint32_t>(); }
  int64_t int64() { return static_cast<int64_t>(be<uint64_t>()); }
  double float64();
  bool boolean() { return int8() != 0; }
  uint32_t uvarint();
  uint64_t uvarlong();
  int32_t varint();
  int64_t varlong();
  Uuid uuid();
  std::string_view raw(size_t n);
  void skip(size_t n) { raw(n); }

  std::string string(bool compact);
  std::optional<std::string> nullable_string(bool compact);
  std::string bytes(bool compact);
  std::optional<std::string> nullable_bytes(bool compact);
  // Returns the view of a bytes field without copying; nullopt for null.
  std::optional<std::string_view> nullable_bytes_view(bool compact);
  // Array length; -1 for null. Fails if the count cannot fit in the remaining bytes
  // (each element takes at least one byte), so a lying count never drives a huge allocation.
  int32_t array_length(bool compact);
  // Skips every tagged field; Gregor's schemas define none it needs to read yet.
  void skip_tagged_fields();

 private:
  template <typename T>
  T be() {
    if (remaining() < sizeof(T)) {
      fail();
      return 0;
    }
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v = static_cast<T>((v << 8) | static_cast<uint8_t>(p_[i]));
    p_ += sizeof(T);
    return v;
  }
  // Length prefix of a string/bytes field: -1 for null, otherwise the byte count.
  int64_t length_prefix(bool compact, bool wide);

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace gregor::protocol
