// Bytes read from a connection's socket ahead of the frame being parsed, so that one recv
// brings in a frame's size prefix, its body and the next frames a client pipelined: on these
// VMs every syscall costs about a microsecond, and reading the size and the body of each small
// request separately (plus the EAGAIN of the next size read) was 2-3 recvs per request.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace gregor::broker {

// Owned by one connection's reader; not thread-safe.
class ReadBuffer {
 public:
  explicit ReadBuffer(size_t capacity)
      : bytes_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}

  size_t capacity() const { return capacity_; }
  // Read but not yet parsed.
  std::string_view data() const { return {bytes_.get() + begin_, end_ - begin_}; }
  // REQUIRES: n <= data().size().
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Where the next read goes: the space after the unparsed bytes, once those are moved to the
  // front. Empty only when the unparsed bytes fill the whole buffer.
  std::span<char> room() {
    if (begin_ > 0) {
      std::memmove(bytes_.get(), bytes_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {bytes_.get() + end_, capacity_ - end_};
  }
  // REQUIRES: n bytes were just written at the start of room().
  void commit(size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t capacity_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace gregor::broker
