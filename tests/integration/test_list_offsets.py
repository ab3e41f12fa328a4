"""ListOffsets: earliest, latest and by timestamp, through confluent-kafka (librdkafka) and
kafka-python, on empty and filled partitions."""
import unittest

from client_helpers import BASE_TS, confluent_produce
from gregor_harness import BrokerTestCase, SLOW

N = 100  # record i has timestamp BASE_TS + 10*i, records go round-robin over partitions


class ListOffsets(BrokerTestCase):
    mock_topics = ["lo-one:1", "lo-two:2", "lo-empty:1", "lo-kpy:1"]

    def consumer(self):
        from confluent_kafka import Consumer
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "unused",
                      "enable.auto.commit": False})
        self.addCleanup(c.close)
        return c

    def test_watermarks(self):
        self.create_topic("lo-one", 1)
        self.create_topic("lo-empty", 1)
        confluent_produce(self.broker.bootstrap, "lo-one", N)
        c = self.consumer()
        self.assertEqual(c.get_watermark_offsets(self.tp("lo-one", 0), timeout=10 * SLOW),
                         (0, N))
        self.assertEqual(c.get_watermark_offsets(self.tp("lo-empty", 0), timeout=10 * SLOW),
                         (0, 0))

    def tp(self, topic, p, offset=-1001):
        from confluent_kafka import TopicPartition
        return TopicPartition(topic, p, offset)

    def test_offsets_for_times(self):
        self.create_topic("lo-two", 2)
        confluent_produce(self.broker.bootstrap, "lo-two", N, partitions=2)
        c = self.consumer()
        # Partition 0 holds even i (offset i/2), partition 1 odd i.
        cases = [
            (0, BASE_TS, 0),               # before everything: first record
            (0, BASE_TS + 500, 25),        # exact timestamp of i=50
            (0, BASE_TS + 505, 26),        # between records: the next one
            (1, BASE_TS + 505, 25),        # i=51 is offset 25 in partition 1
            (0, BASE_TS + 10 * N, -1),     # after the last record: none (end)
        ]
        for p, ts, want in cases:
            with self.subTest(partition=p, ts=ts):
                got = c.offsets_for_times([self.tp("lo-two", p, ts)], timeout=10 * SLOW)
                self.assertIsNone(got[0].error)
                self.assertEqual(got[0].offset, want)

    def test_kafka_python(self):
        from kafka import KafkaConsumer, TopicPartition
        self.create_topic("lo-kpy", 1)
        confluent_produce(self.broker.bootstrap, "lo-kpy", N)
        c = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, group_id=None,
                          enable_auto_commit=False)
        self.addCleanup(c.close)
        tp = TopicPartition("lo-kpy", 0)
        self.assertEqual(c.beginning_offsets([tp]), {tp: 0})
        self.assertEqual(c.end_offsets([tp]), {tp: N})
        found = c.offsets_for_times({tp: BASE_TS + 305})[tp]
        self.assertEqual((found.offset, found.timestamp), (31, BASE_TS + 310))
        self.assertIsNone(c.offsets_for_times({tp: BASE_TS + 10 * N})[tp])


if __name__ == "__main__":
    unittest.main()
