// Opening a partition directory: finding segments, cleaning leftovers, trusting or recovering
// each segment (Kafka's LogLoader), setting the log's start, end and flushed offsets, and
// rebuilding producer state from a snapshot and the batches after it.
#include <charconv>
#include <set>

#include "absl/strings/str_cat.h"
#include "protocol/control_batch.h"
#include "spdlog/spdlog.h"
#include "storage/batch_scanner.h"
#include "storage/log_impl.h"
#include "storage/producer_snapshot.h"

namespace gregor::storage {

namespace {

// "00000000000000000042" -> 42; nullopt for anything that is not a 20-digit stem.
std::optional<int64_t> parse_stem(const std::string& stem) {
  if (stem.size() != 20) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(stem.data(), stem.data() + stem.size(), v);
  if (ec != std::errc() || ptr != stem.data() + stem.size() || v < 0) return std::nullopt;
  return v;
}

bool is_leftover(const std::string& name) {
  for (const char* suffix : {".deleted", ".cleaned", ".swap", ".tmp"}) {
    std::string_view s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::Status Log::Impl::load(const LogOpenOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("mkdir ", dir_.string(), ": ", ec.message()));
  absl::Status swapped = complete_interrupted_swaps(dir_);
  if (!swapped.ok()) return swapped;

  std::set<int64_t> bases;
  std::vector<std::filesystem::path> orphans;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::filesystem::path& p = entry.path();
    std::string name = p.filename().string();
    if (is_leftover(name)) {
      orphans.push_back(p);
      continue;
    }
    std::optional<int64_t> base = parse_stem(p.stem().string());
    if (!base) continue;
    if (p.extension() == ".log") bases.insert(*base);
  }
  if (ec) return absl::UnavailableError(absl::StrCat("list ", dir_.string(), ": ", ec.message()));
  // Index files whose .log is gone (a crash while deleting a segment) are dropped.
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::filesystem::path& p = entry.path();
    std::optional<int64_t> base = parse_stem(p.stem().string());
    if (base &&
        (p.extension() == ".index" || p.extension() == ".timeindex" ||
         p.extension() == ".txnindex") &&
        !bases.contains(*base)) {
      orphans.push_back(p);
    }
  }
  for (const auto& p : orphans) {
    spdlog::info("{}: removing leftover {}", dir_.string(), p.filename().string());
    std::filesystem::remove(p, ec);
  }

  absl::MutexLock l(&mu_);
  const int64_t now = clock_->now_ms();
  if (bases.empty()) bases.insert(std::max<int64_t>(0, options.log_start_offset));
  std::vector<int64_t> order(bases.begin(), bases.end());
  std::set<int64_t> rebuild_txn;  // segments whose .txnindex the producer scan rebuilds
  for (size_t i = 0; i < order.size(); ++i) {
    auto seg =
        Segment::open(dir_, order[i], config_.segment_index_bytes, config_.index_interval_bytes);
    if (!seg.ok()) return seg.status();
    (*seg)->created_ms = now;
    const bool last = i + 1 == order.size();
    // Segments that may hold offsets at or above the recovery point were not known to be
    // on disk: scan them. The rest are trusted unless their indexes fail the sanity check.
    bool scan = options.recover && (last || order[i + 1] > options.recovery_point);
    if (!scan) {
      absl::Status s = (*seg)->load();
      if (absl::IsDataLoss(s)) {
        spdlog::warn("{}: {}; rebuilding segment {}", dir_.string(), s.ToString(), order[i]);
        scan = true;
      } else if (!s.ok()) {
        return s;
      }
    }
    bool truncated = false;
    if (scan) {
      auto count = (*seg)->recover(&truncated);
      if (!count.ok()) return count.status();
      recovered_batches_ += *count;
      // Recovered bytes may still be only in the page cache of a crashed process.
      absl::Status s = (*seg)->flush();
      if (s.ok()) s = (*seg)->flush_indexes();
      if (!s.ok()) return s;
      if (truncated) {
        spdlog::warn("{}: truncated segment {} to {} bytes at offset {}", dir_.string(), order[i],
                     (*seg)->size(), (*seg)->next_offset());
      }
    }
    if (scan || (*seg)->txn_index_lost()) rebuild_txn.insert(order[i]);
    if (!segments_.empty()) {
      GREGOR_INVARIANT(segments_.rbegin()->second->next_offset() <= order[i] ||
                       segments_.rbegin()->second->empty());
    }
    size_bytes_.fetch_add((*seg)->size());
    segments_[order[i]] = *seg;
    if (truncated && !last) {
      // Everything after a corrupt batch is unreachable: offsets must stay contiguous.
      for (size_t j = i + 1; j < order.size(); ++j) {
        auto later = Segment::open(dir_, order[j], config_.segment_index_bytes,
                                   config_.index_interval_bytes);
        if (later.ok()) (void)(*later)->delete_files();
        spdlog::warn("{}: deleted segment {} after corruption", dir_.string(), order[j]);
      }
      break;
    }
  }
  std::shared_ptr<Segment> act = active();
  // Rolled segments were trimmed when closed; only the active one needs room to grow.
  absl::Status s = act->preallocate_indexes();
  if (!s.ok()) return s;
  log_end_offset_.store(act->next_offset());
  int64_t start = std::max(options.log_start_offset, segments_.begin()->first);
  log_start_offset_.store(std::min(start, act->next_offset()));
  flushed_offset_.store(act->next_offset());
  last_flush_ms_ = now;
  return load_producer_state(rebuild_txn, now);
}

absl::Status Log::Impl::load_producer_state(const std::set<int64_t>& rebuild, int64_t now) {
  const int64_t end = log_end_offset_.load();
  std::vector<int64_t> snaps = list_producer_snapshots(dir_);
  // State above the log end describes batches a truncating recovery removed.
  while (!snaps.empty() && snaps.back() > end) {
    spdlog::info("{}: deleting producer snapshot {} above the log end {}", dir_.string(),
                 snaps.back(), end);
    delete_producer_snapshot(dir_, snaps.back());
    snaps.pop_back();
  }
  // A segment whose .txnindex is rebuilt must be scanned whole, from a snapshot at or below it.
  const int64_t limit = rebuild.empty() ? end : std::min(end, *rebuild.begin());
  for (int64_t base : rebuild) {
    absl::Status s = segments_.at(base)->txn_index().reset();
    if (!s.ok()) return s;
  }
  producer_state_.clear();
  int64_t from = segments_.begin()->first;
  for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
    if (*it > limit) continue;
    auto entries = read_producer_snapshot(dir_, *it);
    if (absl::IsDataLoss(entries.status())) {
      spdlog::warn("{}: {}; deleting it", dir_.string(), entries.status().ToString());
      delete_producer_snapshot(dir_, *it);
      continue;
    }
    if (!entries.ok()) return entries.status();
    producer_state_.load_snapshot(*entries, now, config_.producer_id_expiration_ms);
    from = *it;
    last_snapshot_offset_ = *it;
    break;
  }
  // Kafka's loadProducersFromRecords: batch headers, plus the record of each control batch.
  int64_t scanned = 0;
  std::string batch;
  for (const auto& [base, seg] : segments_) {
    if (seg->next_offset() <= from) continue;
    int64_t position = 0;
    if (from > base) {
      auto at = seg->translate(from, seg->size());
      if (!at.ok()) return at.status();
      if (!*at) continue;
      position = **at;
    }
    TxnIndex* txn_index = rebuild.contains(base) ? &seg->txn_index() : nullptr;
    BatchScanner scanner(*seg->log_file(), position, seg->size());
    for (;;) {
      protocol::RecordBatchHeader h;
      auto r = scanner.next(&h);
      if (!r.ok()) return r.status();
      if (*r == BatchScanner::Result::kEnd) break;
      if (*r == BatchScanner::Result::kBad) {
        spdlog::warn("{}: producer state scan stopped at a bad batch in segment {}", dir_.string(),
                     base);
        break;
      }
      if (h.producer_id >= 0) {
        ProducerBatchFacts f = ProducerBatchFacts::from_header(h);
        if (h.is_control()) {
          batch.resize(h.total_size());
          absl::Status s =
              seg->log_file()->pread_exact(batch.data(), batch.size(), scanner.position());
          if (!s.ok()) return s;
          f.marker = protocol::parse_control_batch(batch);
        }
        absl::Status s = replay_batch(f, txn_index);
        if (!s.ok()) return s;
      }
      ++scanned;
      scanner.advance(h);
    }
  }
  producer_scanned_batches_ = scanned;
  if (scanned > 0) {
    spdlog::info("{}: producer state rebuilt from offset {} ({} batches scanned, {} producers)",
                 dir_.string(), from, scanned, producer_state_.producers().size());
  }
  publish_last_stable_offset();
  return absl::OkStatus();
}

}  // namespace gregor::storage
