// server.properties parsing: defaults, Kafka's key precedence, listeners, and invalid values
// that must stop start-up with the key named.
#include "broker/broker_config.h"

#include <gtest/gtest.h>

namespace gregor::broker {
namespace {

TEST(BrokerConfig, DefaultsNeedNoFile) {
  absl::StatusOr<BrokerConfig> c = make_broker_config({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listeners.size(), 1u);
  EXPECT_EQ(c->listeners[0].host, "localhost");
  EXPECT_EQ(c->listeners[0].port, 9092);
  EXPECT_EQ(c->log_dirs, std::vector<std::string>{"./data"});
  EXPECT_TRUE(c->auto_create_topics_enable);
  EXPECT_TRUE(c->acks_all_fsync);
  EXPECT_EQ(c->log_defaults.retention_ms, 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(c->log_defaults.page_cache_window_bytes, 0);  // Kafka's behaviour: no eviction
}

TEST(BrokerConfig, PageCacheWindow) {
  auto c = make_broker_config({{"gregor.log.page.cache.window.bytes", "1048576"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->log_defaults.page_cache_window_bytes, 1 << 20);
}

TEST(BrokerConfig, PropertiesFileSyntax) {
  auto p = parse_properties("# comment\n! also comment\n a.b = 1 \nc:2\nlong=x\\\n  y\n\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)["a.b"], "1");
  EXPECT_EQ((*p)["c"], "2");
  EXPECT_EQ((*p)["long"], "xy");
  EXPECT_FALSE(parse_properties("just a line\n").ok());
}

TEST(BrokerConfig, RetentionPrecedenceMsOverMinutesOverHours) {
  auto c = make_broker_config({{"log.retention.hours", "1"}, {"log.retention.ms", "5000"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->log_defaults.retention_ms, 5000);
  c = make_broker_config({{"log.retention.hours", "2"}, {"log.retention.minutes", "3"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->log_defaults.retention_ms, 3 * 60 * 1000);
  c = make_broker_config({{"log.retention.hours", "-1"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->log_defaults.retention_ms, -1);
}

TEST(BrokerConfig, ListenersAndAdvertisedListeners) {
  auto c = make_broker_config({{"listeners", "PLAINTEXT://:9093"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listeners[0].host, "");
  EXPECT_EQ(c->advertised_listeners[0].host, "localhost");
  EXPECT_EQ(c->advertised_listeners[0].port, 9093);
  c = make_broker_config(
      {{"listeners", "PLAINTEXT://[::1]:0"}, {"advertised.listeners", "PLAINTEXT://example:9000"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listeners[0].host, "::1");
  EXPECT_EQ(c->advertised_listeners[0].host, "example");
}

TEST(BrokerConfig, InvalidValuesNameTheKey) {
  struct Case {
    const char* key;
    const char* value;
  } cases[] = {{"num.partitions", "zero"},
               {"num.partitions", "0"},
               {"listeners", "localhost:9092"},
               {"listeners", "PLAINTEXT://h:99999"},
               {"listeners", "SSL://h:9093"},
               {"auto.create.topics.enable", "yes"},
               {"log.segment.bytes", "10"},
               {"default.replication.factor", "3"},
               {"log.message.timestamp.type", "Wall"},
               {"gregor.log.page.cache.window.bytes", "-1"}};
  for (const Case& c : cases) {
    auto r = make_broker_config({{c.key, c.value}});
    ASSERT_FALSE(r.ok()) << c.key << "=" << c.value;
    EXPECT_NE(std::string(r.status().message()).find(c.key), std::string::npos)
        << r.status().message();
  }
}

TEST(BrokerConfig, UnknownKeysAreReportedNotFatal) {
  auto c = make_broker_config({{"no.such.key", "1"}, {"num.partitions", "3"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->unknown_keys, std::vector<std::string>{"no.such.key"});
  EXPECT_EQ(c->num_partitions, 3);
}

}  // namespace
}  // namespace gregor::broker
