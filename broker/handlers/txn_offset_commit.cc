// TxnOffsetCommit (key 28, v0-3): offsets a transactional producer commits for a group as
// part of its transaction (send_offsets_to_transaction). The group coordinator writes them
// as a transactional batch of the producer; they become the group's offsets when the
// transaction's marker reaches the group's __consumer_offsets partition. Partitions of topics
// that do not exist answer UNKNOWN_TOPIC_OR_PARTITION, as in OffsetCommit.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_topic.h"
#include "broker/partition_manager.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/txn_offset_commit_request.h"
#include "protocol/messages/txn_offset_commit_response.h"

namespace gregor::broker {

using protocol::ErrorCode;

asio::awaitable<Response> handle_txn_offset_commit(RequestContext& ctx) {
  protocol::msg::TxnOffsetCommitRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  coordinator::TxnOffsetCommitRequest commit;
  commit.group_id = req.group_id;
  commit.producer_id = req.producer_id;
  commit.producer_epoch = req.producer_epoch;
  commit.generation_id = req.generation_id;
  commit.member_id = req.member_id;
  commit.group_instance_id = req.group_instance_id;
  commit.verify = ctx.broker.txn_verifier(req.transactional_id, kOffsetsTopic,
                                          ctx.broker.groups().partition_for(req.group_id));
  std::vector<ErrorCode> errors;
  std::vector<size_t> forwarded;
  for (const auto& topic : req.topics) {
    for (const auto& p : topic.partitions) {
      if (!ctx.broker.partitions().get(topic.name, p.partition_index)) {
        errors.push_back(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      forwarded.push_back(errors.size());
      errors.push_back(ErrorCode::kNone);
      commit.partitions.push_back(
          coordinator::OffsetCommitPartition{topic.name, p.partition_index, p.committed_offset,
                                             p.committed_leader_epoch, p.committed_metadata});
    }
  }
  if (!commit.partitions.empty()) {
    coordinator::GroupCoordinator& groups = ctx.broker.groups();
    std::vector<coordinator::TopicPartitionError> results =
        co_await await_callback<std::vector<coordinator::TopicPartitionError>>(
            ctx.executor,
            [&groups, &commit](auto done) { groups.commit_txn_offsets(std::move(commit), done); });
    for (size_t i = 0; i < results.size() && i < forwarded.size(); ++i) {
      errors[forwarded[i]] = results[i].error;
    }
  }

  protocol::msg::TxnOffsetCommitResponse resp;
  size_t i = 0;
  for (const auto& topic : req.topics) {
    auto& t = resp.topics.emplace_back();
    t.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& out = t.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.error_code = protocol::code(errors[i++]);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker
