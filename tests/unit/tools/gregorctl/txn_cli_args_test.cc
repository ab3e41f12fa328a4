// gregorctl's `txn` verbs on the command line: options, repeatable filters and the rules for
// naming the transaction to abort (kafka-transactions.sh's).
#include <gtest/gtest.h>

#include <initializer_list>

#include "tools/gregorctl/cli_args.h"

namespace gregor::tools {
namespace {

ParseOutcome parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"gregorctl"};
  argv.insert(argv.end(), args);
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(TxnCliArgs, ListWithFilters) {
  ParseOutcome o =
      parse({"txn", "list", "--state", "Ongoing", "--state", "PrepareAbort", "--producer-id", "7",
             "--producer-id", "9", "--duration-ms", "60000", "-o", "json"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->verb, Verb::kTxnList);
  EXPECT_EQ(o.command->states, (std::vector<std::string>{"Ongoing", "PrepareAbort"}));
  EXPECT_EQ(o.command->producer_ids, (std::vector<int64_t>{7, 9}));
  EXPECT_EQ(o.command->duration_ms, 60000);
  EXPECT_EQ(o.command->output, OutputFormat::kJson);

  o = parse({"txn", "list"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_TRUE(o.command->states.empty());
  EXPECT_FALSE(o.command->duration_ms.has_value());
}

TEST(TxnCliArgs, DescribeNeedsAnId) {
  ParseOutcome o = parse({"txn", "describe", "app-1", "app-2"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->verb, Verb::kTxnDescribe);
  EXPECT_EQ(o.command->transactional_ids, (std::vector<std::string>{"app-1", "app-2"}));
  o = parse({"txn", "describe"});
  EXPECT_FALSE(o.command.has_value());
  EXPECT_EQ(o.exit_code, 1);
}

TEST(TxnCliArgs, ProducersNeedTopicAndPartition) {
  ParseOutcome o = parse({"txn", "producers", "--topic", "orders", "--partition", "3"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->verb, Verb::kTxnProducers);
  EXPECT_EQ(o.command->partition, (TopicPartition{"orders", 3}));
  EXPECT_FALSE(parse({"txn", "producers", "--topic", "orders"}).command.has_value());
  EXPECT_FALSE(parse({"txn", "producers", "--partition", "0"}).command.has_value());
  EXPECT_FALSE(
      parse({"txn", "producers", "--topic", "orders", "--partition", "-1"}).command.has_value());
}

TEST(TxnCliArgs, AbortByStartOffset) {
  ParseOutcome o =
      parse({"txn", "abort", "--topic", "orders", "--partition", "0", "--start-offset", "42"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->verb, Verb::kTxnAbort);
  EXPECT_EQ(o.command->partition, (TopicPartition{"orders", 0}));
  EXPECT_EQ(o.command->start_offset, 42);
}

TEST(TxnCliArgs, AbortByProducer) {
  ParseOutcome o = parse({"txn", "abort", "--topic", "orders", "--partition", "1", "--producer-id",
                          "1000", "--producer-epoch", "3", "--coordinator-epoch", "5"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_FALSE(o.command->start_offset.has_value());
  EXPECT_EQ(o.command->producer_id, 1000);
  EXPECT_EQ(o.command->producer_epoch, 3);
  EXPECT_EQ(o.command->coordinator_epoch, 5);
  // -1 (what DescribeProducers shows before any marker) becomes 0, as in kafka-transactions.sh.
  o = parse({"txn", "abort", "--topic", "orders", "--partition", "1", "--producer-id", "1000",
             "--producer-epoch", "3", "--coordinator-epoch", "-1"});
  ASSERT_TRUE(o.command.has_value()) << o.err;
  EXPECT_EQ(o.command->coordinator_epoch, 0);
}

TEST(TxnCliArgs, AbortUsageErrors) {
  struct Case {
    std::vector<const char*> extra;
    std::string err;
  };
  std::vector<Case> cases = {
      {{},
       "Error: the transaction to abort must be identified either with --start-offset or with "
       "--producer-id, --producer-epoch and --coordinator-epoch\n"},
      {{"--producer-id", "5"}, "Error: missing --producer-epoch\n"},
      {{"--producer-id", "5", "--producer-epoch", "1"}, "Error: missing --coordinator-epoch\n"},
      {{"--producer-epoch", "1", "--coordinator-epoch", "1"},
       "Error: the transaction to abort must be identified either with --start-offset or with "
       "--producer-id, --producer-epoch and --coordinator-epoch\n"},
      {{"--start-offset", "4", "--producer-id", "5"},
       "Error: give either --start-offset or --producer-id, --producer-epoch and "
       "--coordinator-epoch, not both\n"},
      {{"--start-offset", "-4"}, "Error: --start-offset must not be negative\n"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv = {"gregorctl", "txn",         "abort", "--topic",
                                     "orders",    "--partition", "0"};
    argv.insert(argv.end(), c.extra.begin(), c.extra.end());
    ParseOutcome o = parse_command_line(static_cast<int>(argv.size()), argv.data());
    EXPECT_FALSE(o.command.has_value()) << c.err;
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_EQ(o.err, c.err);
  }
}

}  // namespace
}  // namespace gregor::tools
