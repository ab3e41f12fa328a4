// gregorctl's argument parsing: verbs, defaults, global options on either side of the verb,
// --config entries and usage errors.
#include "tools/gregorctl/cli_args.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace gregor::tools {
namespace {

ParseOutcome parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"gregorctl"};
  argv.insert(argv.end(), args);
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(CliArgs, CreateWithEverything) {
  ParseOutcome o =
      parse({"--bootstrap-server", "h1:1,h2:2", "--output", "json", "topic", "create", "orders",
             "--partitions", "3", "--replication-factor", "2", "--config", "cleanup.policy=compact",
             "--config", "x=a=b", "--if-not-exists", "--validate-only"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  const Command& c = *o.command;
  EXPECT_EQ(c.verb, Verb::kTopicCreate);
  EXPECT_EQ(c.bootstrap_server, "h1:1,h2:2");
  EXPECT_EQ(c.output, OutputFormat::kJson);
  EXPECT_EQ(c.topics, std::vector<std::string>{"orders"});
  EXPECT_EQ(c.partitions, 3);
  EXPECT_EQ(c.replication_factor, 2);
  ASSERT_EQ(c.configs.size(), 2u);
  EXPECT_EQ(c.configs[0], std::make_pair(std::string("cleanup.policy"), std::string("compact")));
  EXPECT_EQ(c.configs[1], std::make_pair(std::string("x"), std::string("a=b")));
  EXPECT_TRUE(c.if_not_exists);
  EXPECT_TRUE(c.validate_only);
}

TEST(CliArgs, CountsAreLeftToTheBroker) {
  ParseOutcome o = parse({"topic", "create", "t", "--partitions", "0", "-r", "0"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->partitions, 0);
  EXPECT_EQ(o.command->replication_factor, 0);
}

TEST(CliArgs, Defaults) {
  ParseOutcome o = parse({"topic", "create", "t"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->bootstrap_server, "localhost:9092");
  EXPECT_EQ(o.command->output, OutputFormat::kTable);
  EXPECT_EQ(o.command->partitions, -1);
  EXPECT_EQ(o.command->replication_factor, -1);
  EXPECT_FALSE(o.command->if_not_exists);
  EXPECT_FALSE(o.command->validate_only);
}

TEST(CliArgs, GlobalOptionsAfterTheVerb) {
  ParseOutcome o = parse({"topic", "list", "--bootstrap-server", "b:9", "--output", "json"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->verb, Verb::kTopicList);
  EXPECT_EQ(o.command->bootstrap_server, "b:9");
  EXPECT_EQ(o.command->output, OutputFormat::kJson);
}

TEST(CliArgs, ExcludeInternal) {
  ParseOutcome o = parse({"topic", "list", "--exclude-internal"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_TRUE(o.command->exclude_internal);
  EXPECT_FALSE(parse({"topic", "list"}).command->exclude_internal);
}

TEST(CliArgs, DescribeTakesZeroOrMoreNames) {
  ParseOutcome none = parse({"topic", "describe"});
  ASSERT_TRUE(none.command.has_value());
  EXPECT_EQ(none.command->verb, Verb::kTopicDescribe);
  EXPECT_TRUE(none.command->topics.empty());
  ParseOutcome two = parse({"topic", "describe", "a", "b"});
  ASSERT_TRUE(two.command.has_value());
  EXPECT_EQ(two.command->topics, (std::vector<std::string>{"a", "b"}));
}

TEST(CliArgs, DeleteNeedsNames) {
  ParseOutcome ok = parse({"topic", "delete", "a", "b"});
  ASSERT_TRUE(ok.command.has_value());
  EXPECT_EQ(ok.command->verb, Verb::kTopicDelete);
  EXPECT_EQ(ok.command->topics, (std::vector<std::string>{"a", "b"}));
  ParseOutcome bad = parse({"topic", "delete"});
  EXPECT_FALSE(bad.command.has_value());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_FALSE(bad.err.empty());
}

TEST(CliArgs, UsageErrorsExitOne) {
  for (auto args : {std::initializer_list<const char*>{},
                    {"topic"},
                    {"topic", "create"},
                    {"topic", "create", "a", "b"},
                    {"topic", "create", "t", "--replication-factor", "40000"},
                    {"topic", "create", "t", "--partitions", "x"},
                    {"topic", "create", "t", "--config", "novalue"},
                    {"topic", "create", "t", "--config", "=v"},
                    {"--output", "yaml", "topic", "list"},
                    {"topic", "frobnicate"}}) {
    ParseOutcome o = parse(args);
    EXPECT_FALSE(o.command.has_value());
    EXPECT_EQ(o.exit_code, 1);
  }
}

TEST(CliArgs, HelpExitsZero) {
  ParseOutcome o = parse({"--help"});
  EXPECT_FALSE(o.command.has_value());
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("topic"), std::string::npos);
}

TEST(CliArgs, ConfigEntry) {
  auto kv = parse_config_entry("retention.ms=");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->first, "retention.ms");
  EXPECT_EQ(kv->second, "");
  EXPECT_FALSE(parse_config_entry("").ok());
}

}  // namespace
}  // namespace gregor::tools
