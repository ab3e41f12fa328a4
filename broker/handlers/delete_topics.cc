// DeleteTopics (key 20, v0-6): by name, or by topic id from v6.
#include "absl/strings/str_cat.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_topic.h"
#include "broker/txn_state_topic.h"
#include "protocol/messages/delete_topics_request.h"
#include "protocol/messages/delete_topics_response.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;
using protocol::msg::DeleteTopicsRequest;
using protocol::msg::DeleteTopicsResponse;

void delete_one(Broker& broker, const std::string& name,
                DeleteTopicsResponse::DeletableTopicResult& out) {
  if (!broker.config().delete_topic_enable) {
    out.error_code = protocol::code(ErrorCode::kTopicDeletionDisabled);
    out.error_message = "Topic deletion is disabled.";
    return;
  }
  if (name == kOffsetsTopic || name == kTransactionStateTopic) {
    out.error_code = protocol::code(ErrorCode::kInvalidTopicException);
    out.error_message = "The internal topic " + name + " cannot be deleted.";
    return;
  }
  absl::Status s = broker.delete_topic(name);
  if (absl::IsNotFound(s)) {
    out.error_code = protocol::code(ErrorCode::kUnknownTopicOrPartition);
    out.error_message = "This server does not host this topic-partition.";
  } else if (!s.ok()) {
    out.error_code = protocol::code(ErrorCode::kKafkaStorageError);
    out.error_message = std::string(s.message());
  } else {
    out.error_code = protocol::code(ErrorCode::kNone);
  }
}

}  // namespace

asio::awaitable<Response> handle_delete_topics(RequestContext& ctx) {
  DeleteTopicsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();
  Broker& broker = ctx.broker;

  DeleteTopicsResponse resp;
  if (ctx.version() < 6) {
    for (const std::string& name : req.topic_names) {
      auto& out = resp.responses.emplace_back();
      out.name = name;
      delete_one(broker, name, out);
    }
    co_return encode_response(resp, ctx.version());
  }
  for (const auto& topic : req.topics) {
    auto& out = resp.responses.emplace_back();
    std::optional<coordinator::TopicInfo> t;
    if (topic.name) {
      t = broker.metadata().topic(*topic.name);
    } else {
      t = broker.metadata().topic_by_id(topic.topic_id);
    }
    out.name = topic.name;
    out.topic_id = topic.topic_id;
    if (!t) {
      bool by_id = !topic.name.has_value();
      out.error_code =
          protocol::code(by_id ? ErrorCode::kUnknownTopicId : ErrorCode::kUnknownTopicOrPartition);
      continue;
    }
    out.name = t->name;
    out.topic_id = t->topic_id;
    delete_one(broker, t->name, out);
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker
