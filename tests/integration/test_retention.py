"""Size-based retention with small segments: old segments are deleted, the log start offset
advances to the first remaining segment, and consumers from the beginning start there."""
import unittest

from client_helpers import confluent_consume, confluent_produce
from gregor_harness import BrokerTestCase, SLOW, wait_until

SEGMENT = 16 * 1024
RETAIN = 64 * 1024
N = 4000  # ~100 bytes of value each: ~500 kB, about 30 segments


class Retention(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {"log.retention.check.interval.ms": 300}

    def watermarks(self, topic):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "unused"})
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10 * SLOW)
        finally:
            c.close()

    def segments(self, topic):
        return self.broker.segment_files(topic, 0)

    def test_retention_bytes(self):
        topic = "ret-bytes"
        self.create_topic(topic, 1, {"segment.bytes": str(SEGMENT),
                                     "retention.bytes": str(RETAIN),
                                     # Records carry 2023 timestamps: keep time retention out.
                                     "retention.ms": "-1",
                                     "file.delete.delay.ms": "0"})
        # Small batches so segments roll often and each holds many batches.
        confluent_produce(self.broker.bootstrap, topic, N, conf={"linger.ms": 0,
                                                                 "batch.num.messages": 20})
        wait_until(lambda: self.watermarks(topic)[0] > 0, 30, "the log start offset to advance")

        def within_retention():
            size = sum(s.stat().st_size for s in self.segments(topic))
            return size <= RETAIN + SEGMENT
        wait_until(within_retention, 30, "segment files to shrink to retention.bytes")
        low, high = self.watermarks(topic)
        self.assertEqual(high, N)
        bases = [int(s.name.split(".")[0]) for s in self.segments(topic)]
        self.assertGreater(len(bases), 1)
        self.assertEqual(min(bases), low, f"log start {low}, segments {bases}")

        msgs = confluent_consume(self.broker.bootstrap, topic, 1, high - low)
        self.assertEqual([m.offset() for m in msgs], list(range(low, high)))
        self.assertEqual(msgs[0].key(), b"k%d" % low)
        # An out-of-range start (offset 0 is gone) resets to the earliest that still exists.
        msgs = confluent_consume(self.broker.bootstrap, topic, 1, high - low, start_offset=0,
                                 conf={"auto.offset.reset": "earliest"})
        self.assertEqual(msgs[0].offset(), low)
        # The start offset survives a restart.
        self.broker.restart()
        self.assertEqual(self.watermarks(topic), (low, high))


if __name__ == "__main__":
    unittest.main()
