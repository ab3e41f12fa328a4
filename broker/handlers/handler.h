// What a Kafka API handler sees and returns, and the table that maps API keys to handlers.
// Adding an API: its schema files, one handler file here, one line in api_table.cc.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cassert>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error_codes.h"
#include "protocol/headers.h"
#include "protocol/wire.h"

namespace gregor::broker {

class Broker;
namespace asio = boost::asio;

struct RequestContext {
  protocol::RequestHeader header;
  protocol::Reader body;  // the request body; views the frame, alive until the handler returns
  Broker& broker;
  asio::any_io_executor executor;  // the connection's executor: continuations must resume here
  std::string client_host;
  // The whole request frame, which this handler owns: Produce lets the log assign offsets in
  // the client's batches where they lie instead of in a copy.
  std::span<char> frame;

  int16_t version() const { return header.api_version; }

  // `part` (a view from `body`) as writable bytes of the frame.
  std::span<char> writable(std::string_view part) const {
    assert(part.data() >= frame.data() && part.data() + part.size() <= frame.data() + frame.size());
    return frame.subspan(static_cast<size_t>(part.data() - frame.data()), part.size());
  }
};

// The client's address as Kafka reports it in group descriptions: "/<ip>".
inline std::string client_host_of(const RequestContext& ctx) {
  size_t colon = ctx.client_host.rfind(':');
  return "/" + ctx.client_host.substr(0, colon);
}

struct Response {
  protocol::OutputBuffer body;
  bool send = true;    // false: no response at all (Produce with acks=0)
  bool close = false;  // the request was malformed: Kafka closes the connection

  static Response close_connection() {
    Response r;
    r.send = false;
    r.close = true;
    return r;
  }
};

using HandlerFn = asio::awaitable<Response> (*)(RequestContext&);

struct ApiEntry {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
  HandlerFn handler;
};

// Every API Gregor lists in ApiVersions, with the exact ranges it implements.
const std::vector<ApiEntry>& api_table();
const ApiEntry* find_api(int16_t api_key);

// The ApiVersions answer for a request above our maximum version: a v0 body with
// UNSUPPORTED_VERSION and our ranges (KIP-511), sent with response header v0.
Response unsupported_api_versions_response();

template <typename Msg>
Response encode_response(const Msg& msg, int16_t version) {
  Response r;
  protocol::Writer w(r.body);
  msg.encode(w, version);
  return r;
}

}  // namespace gregor::broker
