// gregorctl's argument parsing: verbs, defaults, global options on either side of the verb,
// --config entries, the group verbs' options (T:P,P and ISO 8601 times) and usage errors.
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

TEST(CliArgs, GroupListDescribeDelete) {
  ParseOutcome list = parse({"group", "list", "--state", "Stable", "--state", "Empty"});
  ASSERT_TRUE(list.command.has_value()) << list.err;
  EXPECT_EQ(list.command->verb, Verb::kGroupList);
  EXPECT_EQ(list.command->states, (std::vector<std::string>{"Stable", "Empty"}));
  ParseOutcome describe = parse({"group", "describe", "a", "b", "-o", "json"});
  ASSERT_TRUE(describe.command.has_value()) << describe.err;
  EXPECT_EQ(describe.command->verb, Verb::kGroupDescribe);
  EXPECT_EQ(describe.command->groups, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(describe.command->output, OutputFormat::kJson);
  ParseOutcome del = parse({"group", "delete", "a"});
  ASSERT_TRUE(del.command.has_value()) << del.err;
  EXPECT_EQ(del.command->verb, Verb::kGroupDelete);
}

TEST(CliArgs, GroupOffsetsReset) {
  ParseOutcome o = parse({"group", "offsets", "reset", "g", "--topic", "orders", "--topic",
                          "audit:0,2", "--shift-by", "-3", "--execute"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  const Command& c = *o.command;
  EXPECT_EQ(c.verb, Verb::kGroupOffsetsReset);
  EXPECT_EQ(c.groups, std::vector<std::string>{"g"});
  ASSERT_EQ(c.reset_topics.size(), 2u);
  EXPECT_EQ(c.reset_topics[0].topic, "orders");
  EXPECT_TRUE(c.reset_topics[0].partitions.empty());
  EXPECT_EQ(c.reset_topics[1].topic, "audit");
  EXPECT_EQ(c.reset_topics[1].partitions, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(c.reset.kind, ResetKind::kShiftBy);
  EXPECT_EQ(c.reset.value, -3);
  EXPECT_TRUE(c.execute);
  EXPECT_FALSE(c.all_topics);

  ParseOutcome d = parse({"group", "offsets", "reset", "g", "--all-topics", "--to-datetime",
                          "2024-01-02T03:04:05.678Z"});
  ASSERT_TRUE(d.command.has_value()) << d.err;
  EXPECT_EQ(d.command->reset.kind, ResetKind::kToDatetime);
  EXPECT_EQ(d.command->reset.value, 1704164645678);
  EXPECT_TRUE(d.command->all_topics);
  EXPECT_FALSE(d.command->execute);

  for (auto [flag, kind] : {std::pair{"--to-earliest", ResetKind::kToEarliest},
                            std::pair{"--to-latest", ResetKind::kToLatest}}) {
    ParseOutcome k = parse({"group", "offsets", "reset", "g", "--all-topics", flag});
    ASSERT_TRUE(k.command.has_value()) << k.err;
    EXPECT_EQ(k.command->reset.kind, kind);
  }
  ParseOutcome n = parse({"group", "offsets", "reset", "g", "--all-topics", "--to-offset", "42"});
  ASSERT_TRUE(n.command.has_value()) << n.err;
  EXPECT_EQ(n.command->reset.kind, ResetKind::kToOffset);
  EXPECT_EQ(n.command->reset.value, 42);
}

TEST(CliArgs, GroupIdMayFollowTopic) {
  ParseOutcome o = parse({"group", "offsets", "reset", "--topic", "t:1", "g", "--to-earliest"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->groups, std::vector<std::string>{"g"});
  ASSERT_EQ(o.command->reset_topics.size(), 1u);
  EXPECT_EQ(o.command->reset_topics[0].topic, "t");
}

TEST(CliArgs, GroupUsageErrors) {
  for (auto args :
       {std::initializer_list<const char*>{"group"},
        {"group", "describe"},
        {"group", "delete"},
        {"group", "offsets"},
        {"group", "offsets", "reset", "--all-topics", "--to-earliest"},
        {"group", "offsets", "reset", "g", "h", "--all-topics", "--to-earliest"},
        {"group", "offsets", "reset", "g", "--to-earliest"},
        {"group", "offsets", "reset", "g", "--all-topics"},
        {"group", "offsets", "reset", "g", "--all-topics", "--topic", "t", "--to-earliest"},
        {"group", "offsets", "reset", "g", "--all-topics", "--to-earliest", "--to-latest"},
        {"group", "offsets", "reset", "g", "--all-topics", "--to-offset", "-1"},
        {"group", "offsets", "reset", "g", "--all-topics", "--to-offset", "x"},
        {"group", "offsets", "reset", "g", "--all-topics", "--to-datetime", "2024"},
        {"group", "offsets", "reset", "g", "--topic", "t:x", "--to-earliest"},
        {"group", "offsets", "reset", "g", "--topic", ":1", "--to-earliest"},
        {"group", "offsets", "reset", "g", "--topic", "t:-1", "--to-earliest"},
        {"group", "offsets", "reset", "g", "--all-topics", "--to-earliest", "--execute",
         "--dry-run"}}) {
    ParseOutcome o = parse(args);
    EXPECT_FALSE(o.command.has_value()) << *args.begin() << " " << args.size();
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_FALSE(o.err.empty());
  }
}

TEST(CliArgs, TopicSelection) {
  auto t = parse_topic_selection("a:b:1");  // the last ':' separates the partitions
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->topic, "a:b");
  EXPECT_EQ(t->partitions, std::vector<int32_t>{1});
  EXPECT_FALSE(parse_topic_selection("t:").ok());
  EXPECT_FALSE(parse_topic_selection("t:1,").ok());
  EXPECT_FALSE(parse_topic_selection("").ok());
}

TEST(CliArgs, Datetime) {
  EXPECT_EQ(*parse_datetime_ms("1970-01-01T00:00"), 0);
  EXPECT_EQ(*parse_datetime_ms("1970-01-01T00:00:01.5"), 1500);
  EXPECT_EQ(*parse_datetime_ms("2024-02-29T12:00:00+02:00"), 1709200800000);
  EXPECT_EQ(*parse_datetime_ms("2024-02-29T12:00:00+0200"), 1709200800000);
  EXPECT_EQ(*parse_datetime_ms("2024-02-29T10:00:00.123456Z"), 1709200800123);
  EXPECT_EQ(*parse_datetime_ms("1969-12-31T23:59:59Z"), -1000);
  for (const char* bad : {"", "2023-02-29T00:00", "2024-13-01T00:00", "2024-01-01",
                          "2024-01-01T24:00", "2024-01-01T00:00:00.", "2024-01-01T00:00Zjunk",
                          "2024-01-01 00:00", "2024-01-01T00:00+25:00"}) {
    EXPECT_FALSE(parse_datetime_ms(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace gregor::tools
