// ApiVersions (key 18): the APIs and version ranges this broker serves.
#include "broker/handlers/handlers.h"
#include "protocol/error_codes.h"
#include "protocol/messages/api_versions_request.h"
#include "protocol/messages/api_versions_response.h"

namespace gregor::broker {
namespace {

using protocol::msg::ApiVersionsRequest;
using protocol::msg::ApiVersionsResponse;

// ApiVersionsRequest.java: client software name and version must match
// [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
bool valid_software_field(const std::string& s) {
  if (s.empty()) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

ApiVersionsResponse supported(protocol::ErrorCode error) {
  ApiVersionsResponse resp;
  resp.error_code = protocol::code(error);
  for (const ApiEntry& e : api_table()) {
    auto& k = resp.api_keys.emplace_back();
    k.api_key = e.api_key;
    k.min_version = e.min_version;
    k.max_version = e.max_version;
  }
  return resp;
}

}  // namespace

Response unsupported_api_versions_response() {
  return encode_response(supported(protocol::ErrorCode::kUnsupportedVersion), 0);
}

asio::awaitable<Response> handle_api_versions(RequestContext& ctx) {
  ApiVersionsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();
  if (ctx.version() >= 3 && (!valid_software_field(req.client_software_name) ||
                             !valid_software_field(req.client_software_version))) {
    ApiVersionsResponse resp;
    resp.error_code = protocol::code(protocol::ErrorCode::kInvalidRequest);
    co_return encode_response(resp, ctx.version());
  }
  co_return encode_response(supported(protocol::ErrorCode::kNone), ctx.version());
}

}  // namespace gregor::broker
