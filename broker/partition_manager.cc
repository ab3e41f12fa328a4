// PartitionManager: lookup of led partitions and wake-ups of parked fetches.
#include "broker/partition_manager.h"

namespace gregor::broker {

uint64_t Partition::add_waiter(std::function<void()> wake) {
  std::lock_guard lock(waiters_mu_);
  uint64_t id = next_waiter_id_++;
  waiters_.emplace(id, std::move(wake));
  return id;
}

void Partition::remove_waiter(uint64_t id) {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase(id);
}

void Partition::notify_appended() {
  std::lock_guard lock(waiters_mu_);
  // Wake-ups only post to the waiter's executor, so running them under the lock is cheap.
  for (auto& [id, wake] : waiters_) wake();
}

std::shared_ptr<Partition> PartitionManager::get(const std::string& topic,
                                                 int32_t partition) const {
  std::lock_guard lock(mu_);
  auto it = partitions_.find({topic, partition});
  return it == partitions_.end() ? nullptr : it->second;
}

void PartitionManager::add(std::shared_ptr<Partition> partition) {
  std::lock_guard lock(mu_);
  partitions_[{partition->topic(), partition->id()}] = std::move(partition);
}

std::vector<std::shared_ptr<Partition>> PartitionManager::remove_topic(const std::string& topic) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Partition>> out;
  for (auto it = partitions_.lower_bound({topic, INT32_MIN});
       it != partitions_.end() && it->first.first == topic;) {
    out.push_back(std::move(it->second));
    it = partitions_.erase(it);
  }
  return out;
}

std::vector<std::shared_ptr<Partition>> PartitionManager::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Partition>> out;
  for (const auto& [key, p] : partitions_) out.push_back(p);
  return out;
}

}  // namespace gregor::broker
