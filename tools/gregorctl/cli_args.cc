// CLI11 setup for gregorctl: global options, the `topic` command group and its verbs.
#include "tools/gregorctl/cli_args.h"

#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"

namespace gregor::tools {

absl::StatusOr<std::pair<std::string, std::string>> parse_config_entry(std::string_view entry) {
  size_t eq = entry.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config expects key=value, got '", std::string(entry), "'"));
  }
  return std::make_pair(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
}

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  Command cmd;
  std::string output = "table";
  std::vector<std::string> config_entries;
  int partitions = -1;
  int replication_factor = -1;

  CLI::App app{"gregorctl: administer a Gregor (or any Kafka) cluster over the Kafka protocol",
               "gregorctl"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the verb
  app.add_option("--bootstrap-server,-b", cmd.bootstrap_server,
                 "host:port[,host:port...] to connect to (tried in order)")
      ->capture_default_str();
  app.add_option("--output,-o", output, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--timeout-ms", cmd.timeout_ms, "timeout for connecting and for each request")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();

  CLI::App* topic = app.add_subcommand("topic", "create, list, describe and delete topics");
  topic->require_subcommand(1);
  topic->fallthrough();

  CLI::App* create = topic->add_subcommand("create", "create a topic");
  create->add_option("name", cmd.topics, "topic name")->required()->expected(1);
  // Counts are range-checked by the broker, not here, so that a bad value is answered with
  // Kafka's own error (INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR) as with kafka-topics.sh.
  create->add_option("--partitions,-p", partitions, "number of partitions (default: broker's)");
  create
      ->add_option("--replication-factor,-r", replication_factor,
                   "replicas per partition (default: broker's)")
      ->check(CLI::Range(-32768, 32767));
  create->add_option("--config,-c", config_entries, "topic config key=value (repeatable)");
  create->add_flag("--if-not-exists", cmd.if_not_exists, "succeed if the topic already exists");
  create->add_flag("--validate-only", cmd.validate_only, "check the request, create nothing");

  CLI::App* list = topic->add_subcommand("list", "list topics");
  list->add_flag("--exclude-internal", cmd.exclude_internal, "leave out internal topics");
  CLI::App* describe = topic->add_subcommand("describe", "describe topics (all when none given)");
  describe->add_option("names", cmd.topics, "topic names");
  describe->add_flag("--exclude-internal", cmd.exclude_internal, "leave out internal topics");
  CLI::App* del = topic->add_subcommand("delete", "delete topics");
  del->add_option("names", cmd.topics, "topic names")->required();

  ParseOutcome outcome;
  std::ostringstream out;
  std::ostringstream err;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help exits 0; every usage error exits 1, like the broker errors, whatever CLI11's code.
    outcome.exit_code = app.exit(e, out, err) == 0 ? 0 : 1;
    outcome.out = out.str();
    outcome.err = err.str();
    return outcome;
  }

  if (create->parsed()) {
    cmd.verb = Verb::kTopicCreate;
  } else if (list->parsed()) {
    cmd.verb = Verb::kTopicList;
  } else if (describe->parsed()) {
    cmd.verb = Verb::kTopicDescribe;
  } else {
    cmd.verb = Verb::kTopicDelete;
  }
  cmd.output = output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
  cmd.partitions = partitions;
  cmd.replication_factor = static_cast<int16_t>(replication_factor);
  for (const std::string& entry : config_entries) {
    auto kv = parse_config_entry(entry);
    if (!kv.ok()) {
      outcome.exit_code = 1;
      outcome.err = absl::StrCat("Error: ", kv.status().message(), "\n");
      return outcome;
    }
    cmd.configs.push_back(*std::move(kv));
  }
  outcome.command = std::move(cmd);
  return outcome;
}

}  // namespace gregor::tools
