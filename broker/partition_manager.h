// The partitions this broker leads: their logs and the fetches parked on them.
// Thread-safety: all methods may be called from any thread (mu_ guards the map; each
// Partition guards its own waiters).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "storage/log.h"

namespace gregor::broker {

class Partition {
 public:
  Partition(std::string topic, int32_t id, std::shared_ptr<storage::Log> log)
      : topic_(std::move(topic)), id_(id), log_(std::move(log)) {}

  const std::string& topic() const { return topic_; }
  int32_t id() const { return id_; }
  storage::Log& log() { return *log_; }
  const std::shared_ptr<storage::Log>& log_ptr() { return log_; }

  // A parked fetch registers a wake-up and removes it when it stops waiting, so waiters of a
  // partition that never gets appends do not pile up. notify_appended() runs every wake-up.
  uint64_t add_waiter(std::function<void()> wake);
  void remove_waiter(uint64_t id);
  void notify_appended();

 private:
  std::string topic_;
  int32_t id_;
  std::shared_ptr<storage::Log> log_;
  std::mutex waiters_mu_;  // guards waiters_
  uint64_t next_waiter_id_ = 0;
  std::map<uint64_t, std::function<void()>> waiters_;
};

class PartitionManager {
 public:
  std::shared_ptr<Partition> get(const std::string& topic, int32_t partition) const;
  void add(std::shared_ptr<Partition> partition);
  // Drops every partition of `topic` and returns them (the caller removes their logs).
  std::vector<std::shared_ptr<Partition>> remove_topic(const std::string& topic);
  std::vector<std::shared_ptr<Partition>> all() const;

 private:
  mutable std::mutex mu_;  // guards partitions_
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<Partition>> partitions_;
};

}  // namespace gregor::broker
