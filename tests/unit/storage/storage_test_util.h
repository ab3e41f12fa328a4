// Shared helpers for storage tests: a self-deleting temp directory and batch builders.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/record_batch.h"
#include "protocol/wire.h"
#include "storage/file.h"
#include "storage/log.h"

namespace gregor::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gregor-storage-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A batch of `n` records with timestamps ts, ts+1, ... and values "v<i>" padded to value_size.
inline std::string make_batch(int n, int64_t ts, size_t value_size = 16,
                              protocol::Compression compression = protocol::Compression::kNone) {
  std::vector<protocol::Record> records;
  for (int i = 0; i < n; ++i) {
    protocol::Record r;
    r.offset = i;
    r.timestamp = ts + i;
    std::string v = "v" + std::to_string(i);
    v.resize(std::max(v.size(), value_size), '.');
    r.value = v;
    records.push_back(std::move(r));
  }
  protocol::BatchOptions options;
  options.compression = compression;
  auto batch = protocol::build_batch(options, records);
  EXPECT_TRUE(batch.ok()) << batch.status();
  return batch.ok() ? *batch : std::string();
}

inline std::string read_slice(const protocol::FileSlice& slice) {
  std::string out(static_cast<size_t>(slice.size), '\0');
  EXPECT_NE(slice.keep_alive, nullptr);
  EXPECT_EQ(::pread(slice.fd, out.data(), out.size(), slice.position),
            static_cast<ssize_t>(out.size()));
  return out;
}

// Every byte `log` serves from `offset` on, as one string of whole batches.
inline std::string read_all(const Log& log, int64_t offset) {
  auto r = log.read(offset, 1 << 30, true);
  EXPECT_TRUE(r.ok()) << r.status();
  std::string out;
  if (r.ok()) {
    for (const auto& s : r->slices) out += read_slice(s);
  }
  return out;
}

// Parses back-to-back batches into their headers.
inline std::vector<protocol::RecordBatchHeader> headers_of(std::string_view bytes) {
  std::vector<protocol::RecordBatchHeader> out;
  while (!bytes.empty()) {
    auto h = protocol::parse_batch_header(bytes);
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok() || h->total_size() > bytes.size()) break;
    EXPECT_TRUE(protocol::batch_crc_valid(bytes.substr(0, h->total_size())));
    out.push_back(*h);
    bytes.remove_prefix(h->total_size());
  }
  return out;
}

}  // namespace gregor::storage::testing
