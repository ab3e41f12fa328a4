// TxnOffsetCommit (key 28, v0-3): offsets a transactional producer commits for a group as
// part of its transaction (send_offsets_to_transaction). The group coordinator writes them
// as a transactional batch of the producer; they become the group's offsets when the
// transaction's marker reaches the group's __consumer_offsets partition. Partitions of topics
// that do not exist answer UNKNOWN_TOPIC_OR_PARTITION, as in OffsetCommit.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/commit_partitions.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_topic.h"
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
  CommitPartitions partitions = split_commit_partitions(ctx.broker, req.topics);
  commit.partitions = std::move(partitions.known);
  if (!commit.partitions.empty()) {
    coordinator::GroupCoordinator& groups = ctx.broker.groups();
    partitions.merge(co_await await_callback<std::vector<coordinator::TopicPartitionError>>(
        ctx.executor,
        [&groups, &commit](auto done) { groups.commit_txn_offsets(std::move(commit), done); }));
  }

  protocol::msg::TxnOffsetCommitResponse resp;
  fill_commit_response(req.topics, partitions, resp.topics);
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker
