// Out-of-line parts of the primitive encodings: varints, strings, bytes and tagged fields.
#include "protocol/wire.h"

#include <unistd.h>

#include <bit>

namespace gregor::protocol {

std::string& OutputBuffer::tail() {
  if (parts_.empty() || parts_.back().file.fd >= 0) parts_.emplace_back();
  return parts_.back().memory;
}

void OutputBuffer::append_file(FileSlice slice) {
  if (slice.size <= 0) return;
  Part part;
  part.file = std::move(slice);
  parts_.push_back(std::move(part));
}

int64_t OutputBuffer::size() const {
  int64_t n = 0;
  for (const Part& p : parts_)
    n += p.file.fd >= 0 ? p.file.size : static_cast<int64_t>(p.memory.size());
  return n;
}

std::string OutputBuffer::flatten() const {
  std::string out;
  out.reserve(static_cast<size_t>(size()));
  for (const Part& p : parts_) {
    if (p.file.fd < 0) {
      out += p.memory;
      continue;
    }
    size_t start = out.size();
    out.resize(start + static_cast<size_t>(p.file.size));
    int64_t done = 0;
    while (done < p.file.size) {
      ssize_t n = ::pread(p.file.fd, out.data() + start + done,
                          static_cast<size_t>(p.file.size - done), p.file.position + done);
      if (n <= 0) break;
      done += n;
    }
    out.resize(start + static_cast<size_t>(done));
  }
  return out;
}

void Writer::float64(double v) {
  int64(std::bit_cast<int64_t>(v));
}

void Writer::uvarlong(uint64_t v) {
  char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  raw(b, n);
}

void Writer::uvarint(uint32_t v) {
  uvarlong(v);
}

void Writer::varint(int32_t v) {
  uvarlong(static_cast<uint32_t>((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)));
}

void Writer::varlong(int64_t v) {
  uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Writer::string(std::string_view s, bool compact) {
  if (compact) {
    uvarint(static_cast<uint32_t>(s.size() + 1));
  } else {
    int16(static_cast<int16_t>(s.size()));
  }
  raw(s);
}

void Writer::nullable_string(const std::optional<std::string>& s, bool compact) {
  if (s) return string(*s, compact);
  if (compact) {
    uvarint(0);
  } else {
    int16(-1);
  }
}

void Writer::bytes(std::string_view b, bool compact) {
  if (compact) {
    uvarint(static_cast<uint32_t>(b.size() + 1));
  } else {
    int32(static_cast<int32_t>(b.size()));
  }
  raw(b);
}

void Writer::nullable_bytes(const std::optional<std::string>& b, bool compact) {
  if (b) return bytes(*b, compact);
  if (compact) {
    uvarint(0);
  } else {
    int32(-1);
  }
}

void Writer::array_length(int32_t n, bool compact) {
  if (compact) {
    uvarint(static_cast<uint32_t>(n + 1));
  } else {
    int32(n);
  }
}

double Reader::float64() {
  return std::bit_cast<double>(int64());
}

uint64_t Reader::uvarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ >= end_) break;
    uint8_t b = static_cast<uint8_t>(*p_++);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail();
  return 0;
}

uint32_t Reader::uvarint() {
  uint64_t v = uvarlong();
  if (v > UINT32_MAX) {
    fail();
    return 0;
  }
  return static_cast<uint32_t>(v);
}

int32_t Reader::varint() {
  uint32_t u = uvarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::varlong() {
  uint64_t u = uvarlong();
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

Uuid Reader::uuid() {
  Uuid u{};
  std::string_view b = raw(u.size());
  if (ok_) std::memcpy(u.data(), b.data(), u.size());
  return u;
}

std::string_view Reader::raw(size_t n) {
  if (remaining() < n) {
    fail();
    return {};
  }
  std::string_view v(p_, n);
  p_ += n;
  return v;
}

int64_t Reader::length_prefix(bool compact, bool wide) {
  if (compact) return static_cast<int64_t>(uvarint()) - 1;
  return wide ? int32() : int16();
}

std::string Reader::string(bool compact) {
  std::optional<std::string> s = nullable_string(compact);
  if (!s) {
    fail();
    return {};
  }
  return std::move(*s);
}

std::optional<std::string> Reader::nullable_string(bool compact) {
  int64_t n = length_prefix(compact, false);
  if (!ok_ || n < -1) {
    fail();
    return std::nullopt;
  }
  if (n == -1) return std::nullopt;
  return std::string(raw(static_cast<size_t>(n)));
}

std::optional<std::string_view> Reader::nullable_bytes_view(bool compact) {
  int64_t n = length_prefix(compact, true);
  if (!ok_ || n < -1) {
    fail();
    return std::nullopt;
  }
  if (n == -1) return std::nullopt;
  return raw(static_cast<size_t>(n));
}

std::optional<std::string> Reader::nullable_bytes(bool compact) {
  std::optional<std::string_view> v = nullable_bytes_view(compact);
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::string Reader::bytes(bool compact) {
  std::optional<std::string> b = nullable_bytes(compact);
  if (!b) {
    fail();
    return {};
  }
  return std::move(*b);
}

int32_t Reader::array_length(bool compact) {
  int64_t n = compact ? static_cast<int64_t>(uvarint()) - 1 : int32();
  if (!ok_ || n < -1 || static_cast<uint64_t>(n < 0 ? 0 : n) > remaining()) {
    fail();
    return 0;
  }
  return static_cast<int32_t>(n);
}

void Reader::skip_tagged_fields() {
  uint32_t count = uvarint();
  for (uint32_t i = 0; i < count && ok_; ++i) {
    uvarint();  // tag
    skip(uvarint());
  }
}

}  // namespace gregor::protocol
