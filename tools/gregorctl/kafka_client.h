// A small blocking Kafka client for admin tools: connects to the first reachable bootstrap
// server, negotiates API versions with ApiVersions, then sends one request at a time and waits
// for its response. Owned by one thread; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "protocol/wire.h"
#include "tools/gregorctl/blocking_socket.h"

namespace gregor::tools {

struct ClientOptions {
  std::string client_id = "gregorctl";
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
  // Bound on one response frame; a larger size means a wrong port or a broken peer.
  int32_t max_response_bytes = 100 << 20;
};

class KafkaClient {
 public:
  // Tries each comma-separated host:port in order and keeps the first that connects and
  // answers ApiVersions. Errors: InvalidArgument for a bad list; Unavailable naming every
  // server tried and why it failed.
  static absl::StatusOr<std::unique_ptr<KafkaClient>> connect(std::string_view bootstrap_servers,
                                                              const ClientOptions& options);

  // The highest version in [our_min, our_max] that the broker also supports. FailedPrecondition
  // when the broker lacks the API or the ranges do not overlap.
  absl::StatusOr<int16_t> pick_version(int16_t api_key, int16_t our_min, int16_t our_max) const;
  template <typename Message>
  absl::StatusOr<int16_t> pick_version() const {
    return pick_version(Message::kApiKey, Message::kMinVersion, Message::kMaxVersion);
  }

  // Encodes `request` at `version`, sends it and decodes the response at the same version.
  // REQUIRES: version came from pick_version<Request>().
  template <typename Request, typename Response>
  absl::StatusOr<Response> call(const Request& request, int16_t version) {
    static_assert(Request::kApiKey == Response::kApiKey);
    protocol::OutputBuffer out;
    protocol::Writer w(out);
    request.encode(w, version);
    absl::StatusOr<std::string> body = round_trip(Request::kApiKey, version, out.flatten());
    if (!body.ok()) return body.status();
    protocol::Reader r(*body);
    Response response;
    response.decode(r, version);
    if (!r.ok()) {
      return absl::DataLossError(absl::StrCat("malformed response to api ", Request::kApiKey, " v",
                                              version, " from ", server_.to_string()));
    }
    return response;
  }

  // Sends one request body with the header version the API table gives and returns the
  // response body. Any I/O failure or a mismatched correlation id breaks the connection: later
  // calls fail at once rather than read a stale response.
  absl::StatusOr<std::string> round_trip(int16_t api_key, int16_t version, std::string_view body);

  const HostPort& server() const { return server_; }

 private:
  KafkaClient(BlockingSocket socket, HostPort server, const ClientOptions& options)
      : socket_(std::move(socket)), server_(std::move(server)), options_(options) {}
  absl::Status negotiate_versions();

  BlockingSocket socket_;
  HostPort server_;
  ClientOptions options_;
  int32_t next_correlation_id_ = 1;
  bool broken_ = false;
  std::map<int16_t, std::pair<int16_t, int16_t>> broker_versions_;  // api key -> [min, max]
};

}  // namespace gregor::tools
