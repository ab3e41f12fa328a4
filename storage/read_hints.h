// Where recent reads of a segment ended, so that the next read of a consumer that goes on from
// there starts at a known file position instead of searching the offset index.
// Why: a consumer asks for exactly the offset after the last batch it was sent, and the index
// search behind an arbitrary offset is a binary search of preads (about 13 per fetch on a 1 GiB
// segment), each a syscall; a tailing consumer's fetch needed those 13 syscalls to find a
// position the previous fetch had already computed.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

namespace gregor::storage {

// A handful of (next offset, file position) pairs, one per consumer that reads sequentially;
// any thread. A hint is only ever a batch boundary inside bytes that never change while the
// segment exists (its size only grows, and bytes below the size are never rewritten), so a hint
// stays true for the segment's whole life.
class ReadHints {
 public:
  // The file position of the batch that holds `offset`, if a read ended just before it.
  std::optional<int64_t> find(int64_t offset) const {
    std::lock_guard lock(mu_);
    for (const Hint& h : hints_) {
      if (h.offset == offset) return h.position;
    }
    return std::nullopt;
  }

  // Forgets every hint (the segment's bytes are about to be rescanned and may be cut).
  void clear() {
    std::lock_guard lock(mu_);
    hints_.fill(Hint{});
  }

  // A read that started at offset `from` ended at `position`, before the batch holding
  // `next_offset`. The consumer that made it replaces its own previous hint (keyed by `from`),
  // so each sequential reader keeps one slot; otherwise the oldest slot is reused.
  // REQUIRES: position is a batch boundary, and no batch before it holds next_offset.
  void remember(int64_t from, int64_t next_offset, int64_t position) {
    std::lock_guard lock(mu_);
    for (Hint& h : hints_) {
      if (h.offset == from || h.offset == next_offset) {
        h = Hint{next_offset, position};
        return;
      }
    }
    hints_[next_slot_] = Hint{next_offset, position};
    next_slot_ = (next_slot_ + 1) % hints_.size();
  }

 private:
  struct Hint {
    int64_t offset = -1;
    int64_t position = 0;
  };
  mutable std::mutex mu_;  // guards hints_ and next_slot_
  std::array<Hint, 8> hints_{};
  size_t next_slot_ = 0;
};

}  // namespace gregor::storage
