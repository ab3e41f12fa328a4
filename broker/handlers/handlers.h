// One function per Kafka API, each defined in its own file in this folder.
#pragma once

#include "broker/handlers/handler.h"

namespace gregor::broker {

asio::awaitable<Response> handle_produce(RequestContext& ctx);
asio::awaitable<Response> handle_fetch(RequestContext& ctx);
asio::awaitable<Response> handle_list_offsets(RequestContext& ctx);
asio::awaitable<Response> handle_metadata(RequestContext& ctx);
asio::awaitable<Response> handle_find_coordinator(RequestContext& ctx);
asio::awaitable<Response> handle_api_versions(RequestContext& ctx);
asio::awaitable<Response> handle_create_topics(RequestContext& ctx);
asio::awaitable<Response> handle_delete_topics(RequestContext& ctx);
asio::awaitable<Response> handle_join_group(RequestContext& ctx);
asio::awaitable<Response> handle_sync_group(RequestContext& ctx);
asio::awaitable<Response> handle_heartbeat(RequestContext& ctx);
asio::awaitable<Response> handle_leave_group(RequestContext& ctx);
asio::awaitable<Response> handle_offset_commit(RequestContext& ctx);
asio::awaitable<Response> handle_offset_fetch(RequestContext& ctx);
asio::awaitable<Response> handle_list_groups(RequestContext& ctx);
asio::awaitable<Response> handle_describe_groups(RequestContext& ctx);
asio::awaitable<Response> handle_delete_groups(RequestContext& ctx);
asio::awaitable<Response> handle_offset_delete(RequestContext& ctx);
asio::awaitable<Response> handle_init_producer_id(RequestContext& ctx);
asio::awaitable<Response> handle_add_partitions_to_txn(RequestContext& ctx);
asio::awaitable<Response> handle_add_offsets_to_txn(RequestContext& ctx);
asio::awaitable<Response> handle_end_txn(RequestContext& ctx);
asio::awaitable<Response> handle_txn_offset_commit(RequestContext& ctx);
asio::awaitable<Response> handle_write_txn_markers(RequestContext& ctx);
asio::awaitable<Response> handle_describe_producers(RequestContext& ctx);
asio::awaitable<Response> handle_describe_transactions(RequestContext& ctx);
asio::awaitable<Response> handle_list_transactions(RequestContext& ctx);

}  // namespace gregor::broker
