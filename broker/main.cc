// gregord: parses the configuration, opens the broker and runs it until SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "broker/broker.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

int fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gregord - a Kafka-compatible message broker"};
  std::string config_file;
  std::vector<std::string> overrides;
  app.add_option("--config,-c", config_file, "server.properties file (Kafka's property names)");
  app.add_option("--override", overrides, "key=value that overrides the file; may repeat")
      ->allow_extra_args(false);
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_mt("gregord"));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] %^%l%$ %v");

  std::map<std::string, std::string> props;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) return fail("cannot read config file " + config_file);
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::map<std::string, std::string>> parsed =
        gregor::broker::parse_properties(text.str());
    if (!parsed.ok()) return fail(config_file + ": " + std::string(parsed.status().message()));
    props = *parsed;
  }
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail("--override needs key=value, got '" + o + "'");
    props[o.substr(0, eq)] = o.substr(eq + 1);
  }
  absl::StatusOr<gregor::broker::BrokerConfig> config = gregor::broker::make_broker_config(props);
  if (!config.ok()) return fail(std::string(config.status().message()));
  for (const std::string& key : config->unknown_keys) {
    spdlog::warn("unknown configuration '{}' is ignored", key);
  }

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<gregor::broker::Broker>> broker =
      gregor::broker::Broker::open(*config);
  if (!broker.ok()) return fail("cannot open broker: " + std::string(broker.status().message()));
  if (absl::Status s = (*broker)->start(); !s.ok()) {
    (*broker)->stop();
    return fail(std::string(s.message()));
  }
  spdlog::info("gregord started (node.id={})", config->node_id);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received signal {}, shutting down", sig);
  (*broker)->stop();
  spdlog::info("shutdown complete");
  return 0;
}
