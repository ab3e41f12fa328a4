// Connection set-up, ApiVersions negotiation (with the KIP-511 fallback) and the request/
// response round trip of gregorctl's Kafka client.
#include "tools/gregorctl/kafka_client.h"

#include <algorithm>
#include <vector>

#include "protocol/error_codes.h"
#include "protocol/messages/api_table.h"
#include "protocol/messages/api_versions_request.h"
#include "protocol/messages/api_versions_response.h"
#include "tools/gregorctl/frame.h"

namespace gregor::tools {

namespace {

constexpr char kSoftwareName[] = "gregorctl";
constexpr char kSoftwareVersion[] = "0.1.0";

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaClient>> KafkaClient::connect(
    std::string_view bootstrap_servers, const ClientOptions& options) {
  absl::StatusOr<std::vector<HostPort>> servers = parse_bootstrap_servers(bootstrap_servers);
  if (!servers.ok()) return servers.status();
  std::string failures;
  for (const HostPort& server : *servers) {
    absl::StatusOr<BlockingSocket> socket =
        BlockingSocket::connect(server, Clock::now() + options.connect_timeout);
    absl::Status status = socket.status();
    if (status.ok()) {
      std::unique_ptr<KafkaClient> client(new KafkaClient(*std::move(socket), server, options));
      status = client->negotiate_versions();
      if (status.ok()) return client;
    }
    absl::StrAppend(&failures, failures.empty() ? "" : "; ", server.to_string(), ": ",
                    status.message());
  }
  return absl::UnavailableError(absl::StrCat("cannot reach any bootstrap server (", failures, ")"));
}

absl::StatusOr<int16_t> KafkaClient::pick_version(int16_t api_key, int16_t our_min,
                                                  int16_t our_max) const {
  auto it = broker_versions_.find(api_key);
  std::string name(protocol::api_name(api_key));
  if (name.empty()) name = absl::StrCat("api ", api_key);
  if (it == broker_versions_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("broker ", server_.to_string(), " does not support ", name));
  }
  auto [broker_min, broker_max] = it->second;
  int16_t version = std::min(our_max, broker_max);
  if (version < our_min || version < broker_min) {
    return absl::FailedPreconditionError(
        absl::StrCat("no common version of ", name, ": broker supports ", broker_min, "-",
                     broker_max, ", gregorctl ", our_min, "-", our_max));
  }
  return version;
}

absl::StatusOr<std::string> KafkaClient::round_trip(int16_t api_key, int16_t version,
                                                    std::string_view body) {
  if (broken_) return absl::FailedPreconditionError("connection already failed");
  // Until proven otherwise; cleared once a matching response is read.
  broken_ = true;
  Clock::time_point deadline = Clock::now() + options_.request_timeout;
  RequestHeader header;
  header.api_key = api_key;
  header.api_version = version;
  header.correlation_id = next_correlation_id_++;
  header.client_id = options_.client_id;
  header.header_version = protocol::request_header_version(api_key, version);
  std::string name(protocol::api_name(api_key));
  auto fail = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(name, " v", version, " to ", server_.to_string(),
                                               ": ", s.message()));
  };

  if (absl::Status s = socket_.write_all(encode_request_frame(header, body), deadline); !s.ok()) {
    return fail(s);
  }
  char prefix[4];
  if (absl::Status s = socket_.read_exact(prefix, sizeof(prefix), deadline); !s.ok()) {
    return fail(s);
  }
  absl::StatusOr<int32_t> size =
      decode_frame_size(std::string_view(prefix, sizeof(prefix)), options_.max_response_bytes);
  if (!size.ok()) return fail(size.status());
  std::string frame(static_cast<size_t>(*size), '\0');
  if (absl::Status s = socket_.read_exact(frame.data(), frame.size(), deadline); !s.ok()) {
    return fail(s);
  }
  absl::StatusOr<ResponseView> response =
      decode_response_frame(frame, protocol::response_header_version(api_key, version));
  if (!response.ok()) return fail(response.status());
  if (response->correlation_id != header.correlation_id) {
    return fail(
        absl::DataLossError(absl::StrCat("response has correlation id ", response->correlation_id,
                                         ", expected ", header.correlation_id)));
  }
  broken_ = false;
  return std::string(response->body);
}

absl::Status KafkaClient::negotiate_versions() {
  using protocol::msg::ApiVersionsRequest;
  using protocol::msg::ApiVersionsResponse;
  const int16_t kUnsupported = protocol::code(protocol::ErrorCode::kUnsupportedVersion);
  int16_t version = ApiVersionsRequest::kMaxVersion;
  // Each retry lowers the version, so this ends after at most kMaxVersion + 1 attempts.
  for (;;) {
    ApiVersionsRequest request;
    request.client_software_name = kSoftwareName;
    request.client_software_version = kSoftwareVersion;
    protocol::OutputBuffer out;
    protocol::Writer w(out);
    request.encode(w, version);
    absl::StatusOr<std::string> body =
        round_trip(ApiVersionsRequest::kApiKey, version, out.flatten());
    if (!body.ok()) return body.status();

    ApiVersionsResponse response;
    protocol::Reader r(*body);
    response.decode(r, version);
    if (!r.ok()) {
      protocol::Reader error_only(*body);
      if (error_only.int16() != kUnsupported || !error_only.ok()) {
        return absl::DataLossError(absl::StrCat("malformed ApiVersions v", version, " response"));
      }
      response = ApiVersionsResponse();
      response.error_code = kUnsupported;
    }
    if (response.error_code == kUnsupported) {
      // KIP-511: the broker answers a version it does not know with a v0 body listing its
      // ApiVersions range. Some (librdkafka's mock cluster) send a body no version decodes;
      // then we just step down one version.
      int16_t next = static_cast<int16_t>(version - 1);
      ApiVersionsResponse v0;
      protocol::Reader r0(*body);
      v0.decode(r0, 0);
      if (r0.ok()) {
        for (const auto& key : v0.api_keys) {
          if (key.api_key == ApiVersionsRequest::kApiKey) next = std::min(next, key.max_version);
        }
      }
      if (next < 0) return absl::FailedPreconditionError("broker supports no ApiVersions version");
      version = next;
      continue;
    }
    if (response.error_code != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ApiVersions failed: ", std::string(protocol::error_message(
                                      static_cast<protocol::ErrorCode>(response.error_code)))));
    }
    broker_versions_.clear();
    for (const auto& key : response.api_keys) {
      broker_versions_[key.api_key] = {key.min_version, key.max_version};
    }
    return absl::OkStatus();
  }
}

}  // namespace gregor::tools
