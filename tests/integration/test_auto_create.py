"""auto.create.topics.enable on and off, num.partitions as the default partition count, and
invalid topic names rejected with Kafka's errors."""
import unittest

import raw_kafka as rk
from gregor_harness import BrokerTestCase, SLOW

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
BAD_NAMES = ["bad/name", "..", "x" * 250, "sp ace"]


def partition_count(bootstrap, topic):
    from confluent_kafka.admin import AdminClient
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    return None if t is None or t.error is not None else len(t.partitions)


class AutoCreateOn(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {"auto.create.topics.enable": "true", "num.partitions": 5}

    def test_producer_auto_creates_with_num_partitions(self):
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "message.timeout.ms": 20000})
        errors = []
        for i in range(50):
            p.produce("auto-on", value=b"v%d" % i, key=b"k%d" % i,
                      on_delivery=lambda err, msg: err and errors.append(err))
        self.assertEqual(p.flush(30 * SLOW), 0)
        self.assertEqual(errors, [])
        self.assertEqual(partition_count(self.broker.bootstrap, "auto-on"), 5)

    def test_metadata_request_auto_creates(self):
        res = rk.metadata_v4(self.broker.port, ["auto-md"], allow_auto_create=True)
        self.assertIn(res["auto-md"][0], (0, 5), res)  # created, or LEADER_NOT_AVAILABLE while creating
        self.assertEqual(partition_count(self.broker.bootstrap, "auto-md"), 5)

    def test_metadata_without_allow_does_not_create(self):
        res = rk.metadata_v4(self.broker.port, ["auto-not-allowed"], allow_auto_create=False)
        self.assertEqual(res["auto-not-allowed"][0], UNKNOWN_TOPIC_OR_PARTITION)
        res = rk.metadata_v4(self.broker.port, ["auto-not-allowed"], allow_auto_create=False)
        self.assertEqual(res["auto-not-allowed"][0], UNKNOWN_TOPIC_OR_PARTITION)

    def test_invalid_names_not_created(self):
        res = rk.metadata_v4(self.broker.port, BAD_NAMES, allow_auto_create=True)
        for name in BAD_NAMES:
            self.assertEqual(res[name][0], INVALID_TOPIC_EXCEPTION, f"{name!r}: {res[name]}")
        res = rk.metadata_v4(self.broker.port, [], allow_auto_create=False)
        for name in BAD_NAMES:
            self.assertNotIn(name, res)

    def test_create_topics_rejects_invalid_names(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for name in BAD_NAMES:
            with self.subTest(name=name):
                fut = admin.create_topics([NewTopic(name, 1, 1)])[name]
                with self.assertRaises(Exception) as cm:
                    fut.result(30 * SLOW)
                # librdkafka names the code _INVALID_TOPIC / TOPIC_EXCEPTION depending on version.
                self.assertRegex(str(cm.exception), r"(?i)invalid.?topic|TOPIC_EXCEPTION")


class AutoCreateOff(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {"auto.create.topics.enable": "false", "num.partitions": 3}

    def test_metadata_does_not_create(self):
        res = rk.metadata_v4(self.broker.port, ["off-topic"], allow_auto_create=True)
        self.assertEqual(res["off-topic"][0], UNKNOWN_TOPIC_OR_PARTITION)
        self.assertIsNone(partition_count(self.broker.bootstrap, "off-topic"))

    def test_producer_gets_unknown_topic(self):
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "message.timeout.ms": 3000})
        errors = []
        p.produce("off-produce", value=b"x", on_delivery=lambda err, msg: errors.append(err))
        p.flush(30 * SLOW)
        self.assertEqual(len(errors), 1)
        self.assertIsNotNone(errors[0], "produce to a missing topic succeeded")
        self.assertIsNone(partition_count(self.broker.bootstrap, "off-produce"))

    def test_create_topics_default_partitions(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        # -1: the broker's num.partitions (CreateTopics v4+).
        admin.create_topics([NewTopic("off-default", -1, -1)])["off-default"].result(30 * SLOW)
        self.wait_for_topic("off-default", 3)


if __name__ == "__main__":
    unittest.main()
