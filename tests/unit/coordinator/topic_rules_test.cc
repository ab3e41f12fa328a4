// Kafka's topic name rules and topic config validation.
#include "coordinator/topic_rules.h"

#include <gtest/gtest.h>

namespace gregor::coordinator {
namespace {

TEST(TopicRules, Names) {
  EXPECT_TRUE(validate_topic_name("orders").ok());
  EXPECT_TRUE(validate_topic_name("a.b_c-D9").ok());
  EXPECT_TRUE(validate_topic_name(std::string(249, 'x')).ok());
  EXPECT_FALSE(validate_topic_name("").ok());
  EXPECT_FALSE(validate_topic_name(".").ok());
  EXPECT_FALSE(validate_topic_name("..").ok());
  EXPECT_FALSE(validate_topic_name(std::string(250, 'x')).ok());
  EXPECT_FALSE(validate_topic_name("has space").ok());
  EXPECT_FALSE(validate_topic_name("slash/").ok());
  EXPECT_TRUE(is_internal_topic("__consumer_offsets"));
  EXPECT_FALSE(is_internal_topic("_x"));
}

TEST(TopicRules, Configs) {
  EXPECT_TRUE(validate_topic_config("retention.ms", "-1").ok());
  EXPECT_TRUE(validate_topic_config("cleanup.policy", "compact,delete").ok());
  EXPECT_TRUE(validate_topic_config("min.cleanable.dirty.ratio", "0.5").ok());
  EXPECT_FALSE(validate_topic_config("retention.ms", "-2").ok());
  EXPECT_FALSE(validate_topic_config("segment.bytes", "abc").ok());
  EXPECT_FALSE(validate_topic_config("cleanup.policy", "shred").ok());
  EXPECT_FALSE(validate_topic_config("no.such.config", "1").ok());
  EXPECT_FALSE(validate_topic_config("min.cleanable.dirty.ratio", "2").ok());
}

TEST(TopicRules, LogConfigTakesTopicOverrides) {
  storage::LogConfig defaults;
  storage::LogConfig c = log_config_for(defaults, {{"segment.bytes", "1024"},
                                                   {"retention.ms", "60000"},
                                                   {"message.timestamp.type", "LogAppendTime"}});
  EXPECT_EQ(c.segment_bytes, 1024);
  EXPECT_EQ(c.retention_ms, 60000);
  EXPECT_TRUE(c.log_append_time);
  EXPECT_EQ(c.index_interval_bytes, defaults.index_interval_bytes);
  c = log_config_for(defaults, {{"cleanup.policy", "compact,delete"},
                                {"delete.retention.ms", "500"},
                                {"min.cleanable.dirty.ratio", "0.25"},
                                {"min.compaction.lag.ms", "7"}});
  EXPECT_TRUE(c.compact);
  EXPECT_EQ(c.delete_retention_ms, 500);
  EXPECT_DOUBLE_EQ(c.min_cleanable_dirty_ratio, 0.25);
  EXPECT_EQ(c.min_compaction_lag_ms, 7);
  EXPECT_EQ(c.retention_ms, defaults.retention_ms);  // compact,delete keeps time retention
  EXPECT_FALSE(log_config_for(defaults, {}).compact);
  // Compact-only topics are never deleted by time or size.
  c = log_config_for(defaults, {{"cleanup.policy", "compact"}, {"retention.ms", "1"}});
  EXPECT_EQ(c.retention_ms, -1);
  EXPECT_EQ(c.retention_bytes, -1);
}

}  // namespace
}  // namespace gregor::coordinator
