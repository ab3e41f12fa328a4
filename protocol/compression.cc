// Compression codecs of record batch v2. Every decoder writes into a buffer that never grows past
// max_output + 1 bytes: producing that extra byte is how a compression bomb is detected.
#include "protocol/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"

namespace gregor::protocol {
namespace {

constexpr size_t kFirstChunk = 64 * 1024;

absl::Status too_large(size_t max_output) {
  return absl::ResourceExhaustedError(
      absl::StrCat("decompressed data exceeds the limit of ", max_output, " bytes"));
}

// Output buffer of a streaming decoder: hands out free space in growing chunks and reports
// whether the decoder went past the limit.
class BoundedOutput {
 public:
  explicit BoundedOutput(size_t max_output)
      : max_output_(max_output),
        cap_(max_output == std::numeric_limits<size_t>::max() ? max_output : max_output + 1) {}

  // Free space to write into; empty once the cap is reached.
  std::pair<char*, size_t> space() {
    if (used_ == buf_.size() && buf_.size() < cap_) {
      size_t grow = std::max(kFirstChunk, buf_.size());
      buf_.resize(buf_.size() + std::min(grow, cap_ - buf_.size()));
    }
    return {buf_.data() + used_, buf_.size() - used_};
  }
  void produced(size_t n) { used_ += n; }
  bool over_limit() const { return used_ > max_output_; }
  // True when no space is left, i.e. the decoder has been stopped at the cap.
  bool full() const { return used_ == cap_; }
  std::string take() {
    buf_.resize(used_);
    return std::move(buf_);
  }

 private:
  size_t max_output_;
  size_t cap_;
  size_t used_ = 0;
  std::string buf_;
};

// ---- gzip ----

absl::StatusOr<std::string> gzip_compress(std::string_view input) {
  z_stream zs{};
  // 15 window bits + 16 selects the gzip wrapper (RFC 1952) rather than zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, input.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("deflate did not finish");
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> gzip_decompress(std::string_view input, size_t max_output) {
  if (input.size() > std::numeric_limits<uInt>::max()) {
    return absl::InvalidArgumentError("gzip input too large");
  }
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  BoundedOutput out(max_output);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  while (true) {
    auto [dst, room] = out.space();
    if (room == 0) return too_large(max_output);
    zs.next_out = reinterpret_cast<Bytef*>(dst);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(room, std::numeric_limits<uInt>::max()));
    uInt before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.produced(before - zs.avail_out);
    if (out.over_limit()) return too_large(max_output);
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (RFC 1952 allows them) decode as one stream.
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) return absl::InternalError("inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return absl::DataLossError("gzip data truncated");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return absl::DataLossError(absl::StrCat("corrupt gzip data: ", zs.msg ? zs.msg : "?"));
    }
  }
  return out.take();
}

// ---- snappy ----

// Java clients write xerial's framing: this magic, two big-endian int32 versions, then blocks of
// [int32 big-endian length][raw snappy block].
constexpr char kXerialMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
constexpr size_t kXerialHeaderSize = 16;

uint32_t load_be32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

absl::Status snappy_raw_append(std::string_view block, size_t max_output, std::string& out) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(block.data(), block.size(), &n)) {
    return absl::DataLossError("corrupt snappy block header");
  }
  if (n > max_output - out.size()) return too_large(max_output);
  size_t at = out.size();
  out.resize(at + n);
  if (!snappy::RawUncompress(block.data(), block.size(), out.data() + at)) {
    return absl::DataLossError("corrupt snappy data");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> snappy_decompress(std::string_view input, size_t max_output) {
  std::string out;
  if (input.size() < kXerialHeaderSize ||
      std::memcmp(input.data(), kXerialMagic, sizeof(kXerialMagic)) != 0) {
    absl::Status s = snappy_raw_append(input, max_output, out);
    if (!s.ok()) return s;
    return out;
  }
  std::string_view rest = input.substr(kXerialHeaderSize);
  while (!rest.empty()) {
    if (rest.size() < 4) return absl::DataLossError("truncated xerial snappy block length");
    uint32_t len = load_be32(rest.data());
    rest.remove_prefix(4);
    if (len > rest.size()) return absl::DataLossError("truncated xerial snappy block");
    absl::Status s = snappy_raw_append(rest.substr(0, len), max_output, out);
    if (!s.ok()) return s;
    rest.remove_prefix(len);
  }
  return out;
}

// ---- lz4 frame ----

absl::StatusOr<std::string> lz4_compress(std::string_view input) {
  LZ4F_preferences_t prefs{};
  // 64 KiB independent blocks, as Kafka's Java producer writes them.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  std::string out(LZ4F_compressFrameBound(input.size(), &prefs), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
  if (LZ4F_isError(n)) {
    return absl::InternalError(absl::StrCat("lz4 compression failed: ", LZ4F_getErrorName(n)));
  }
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> lz4_decompress(std::string_view input, size_t max_output) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
    return absl::InternalError("LZ4F_createDecompressionContext failed");
  }
  std::unique_ptr<LZ4F_dctx, size_t (*)(LZ4F_dctx*)> guard(ctx, LZ4F_freeDecompressionContext);
  BoundedOutput out(max_output);
  const char* src = input.data();
  size_t left = input.size();
  size_t hint = 1;  // LZ4F's "bytes expected next"; 0 means a frame just ended
  while (left > 0) {
    auto [dst, room] = out.space();
    if (room == 0) return too_large(max_output);
    size_t dst_size = room;
    size_t src_size = left;
    hint = LZ4F_decompress(ctx, dst, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      return absl::DataLossError(absl::StrCat("corrupt lz4 data: ", LZ4F_getErrorName(hint)));
    }
    out.produced(dst_size);
    if (out.over_limit()) return too_large(max_output);
    src += src_size;
    left -= src_size;
    if (src_size == 0 && dst_size == 0 && !out.full()) {
      return absl::DataLossError("lz4 decoder made no progress");
    }
  }
  // Flush what the decoder may still hold from its last block.
  while (hint != 0) {
    auto [dst, room] = out.space();
    if (room == 0) return too_large(max_output);
    size_t dst_size = room;
    size_t src_size = 0;
    hint = LZ4F_decompress(ctx, dst, &dst_size, nullptr, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      return absl::DataLossError(absl::StrCat("corrupt lz4 data: ", LZ4F_getErrorName(hint)));
    }
    out.produced(dst_size);
    if (out.over_limit()) return too_large(max_output);
    if (dst_size == 0 && hint != 0) return absl::DataLossError("lz4 data truncated");
  }
  return out.take();
}

// ---- zstd ----

absl::StatusOr<std::string> zstd_compress(std::string_view input) {
  std::string out(ZSTD_compressBound(input.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n)) {
    return absl::InternalError(absl::StrCat("zstd compression failed: ", ZSTD_getErrorName(n)));
  }
  out.resize(n);
  return out;
}

// Largest window we let a frame ask for: enough for any stock producer setting (level 19 uses
// 8 MiB), while a hostile frame cannot make us reserve the 2 GiB the format permits.
int zstd_window_log_max(size_t max_output) {
  int log = 23;
  while (log < 27 && (size_t{1} << log) < max_output) ++log;
  return log;
}

absl::StatusOr<std::string> zstd_decompress(std::string_view input, size_t max_output) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) return absl::InternalError("ZSTD_createDCtx failed");
  ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, zstd_window_log_max(max_output));
  BoundedOutput out(max_output);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t hint = 1;  // 0 once a frame is complete
  // Frames may lack a content size (streaming producers), so decode incrementally.
  while (in.pos < in.size || hint != 0) {
    auto [dst, room] = out.space();
    if (room == 0) return too_large(max_output);
    ZSTD_outBuffer ob{dst, room, 0};
    size_t before_in = in.pos;
    hint = ZSTD_decompressStream(ctx.get(), &ob, &in);
    if (ZSTD_isError(hint)) {
      return absl::DataLossError(absl::StrCat("corrupt zstd data: ", ZSTD_getErrorName(hint)));
    }
    out.produced(ob.pos);
    if (out.over_limit()) return too_large(max_output);
    if (in.pos == in.size && hint != 0 && ob.pos < ob.size) {
      return absl::DataLossError("zstd data truncated");
    }
    if (ob.pos == 0 && in.pos == before_in && !out.full()) {
      return absl::DataLossError("zstd decoder made no progress");
    }
  }
  return out.take();
}

}  // namespace

absl::StatusOr<std::string> compress(Compression codec, std::string_view input) {
  switch (codec) {
    case Compression::kNone:
      return std::string(input);
    case Compression::kGzip:
      return gzip_compress(input);
    case Compression::kSnappy: {
      std::string out;
      snappy::Compress(input.data(), input.size(), &out);
      return out;
    }
    case Compression::kLz4:
      return lz4_compress(input);
    case Compression::kZstd:
      return zstd_compress(input);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression codec ", static_cast<int>(codec)));
}

absl::StatusOr<std::string> decompress(Compression codec, std::string_view input,
                                       size_t max_output) {
  switch (codec) {
    case Compression::kNone:
      if (input.size() > max_output) return too_large(max_output);
      return std::string(input);
    case Compression::kGzip:
      return gzip_decompress(input, max_output);
    case Compression::kSnappy:
      return snappy_decompress(input, max_output);
    case Compression::kLz4:
      return lz4_decompress(input, max_output);
    case Compression::kZstd:
      return zstd_decompress(input, max_output);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression codec ", static_cast<int>(codec)));
}

}  // namespace gregor::protocol
