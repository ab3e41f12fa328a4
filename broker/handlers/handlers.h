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

}  // namespace gregor::broker
