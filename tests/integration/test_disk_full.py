"""A full disk under a running broker (fault/full_disk_preload.c makes every write to the data
dir fail or tear, as ENOSPC does): confluent-kafka producers hear a retriable error and keep
retrying, nothing is acknowledged, reads keep working, and once space is back the log goes on
at the next offset with no torn or unacknowledged bytes, across a restart too. Topic creation
and offset commits fail with retriable errors meanwhile and work again afterwards."""
import os
import unittest

from client_helpers import check_records, confluent_consume, confluent_produce, record
from gregor_harness import BUILD_DIR, SLOW, BrokerTestCase

SHIM = BUILD_DIR / "tests" / "integration" / "libfull_disk_preload.so"


class DiskFull(BrokerTestCase):
    needs_real_broker = True

    @classmethod
    def broker_env(cls, broker):
        if not SHIM.exists():
            raise AssertionError(f"{SHIM} is not built: cmake --build {BUILD_DIR} "
                                 "--target full_disk_preload")
        cls.full_flag = broker.tmp / "disk-is-full"
        cls.sync_flag = broker.tmp / "syncs-fail"
        # ASan insists on coming first among preloaded libraries unless told otherwise.
        asan = os.environ.get("ASAN_OPTIONS", "")
        return {
            "LD_PRELOAD": str(SHIM),
            "GREGOR_FULL_DISK_FLAG": str(cls.full_flag),
            "GREGOR_SYNC_FAIL_FLAG": str(cls.sync_flag),
            "GREGOR_FULL_DISK_DIR": os.path.realpath(broker.data_dir),
            "ASAN_OPTIONS": f"{asan}:verify_asan_link_order=0" if asan
                            else "verify_asan_link_order=0",
        }

    def produce_failing(self, topic, start, n):
        """Produces n records while writes or syncs fail; returns the delivery errors."""
        from confluent_kafka import Producer
        errors, delivered = [], []
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "acks": "all",
                      "message.timeout.ms": int(4000 * SLOW), "retry.backoff.ms": 100})

        def on_delivery(err, msg):
            (errors if err is not None else delivered).append(err or msg.offset())
        for i in range(start, start + n):
            _, key, value, headers, ts = record(i)
            p.produce(topic, value=value, key=key, headers=headers, partition=0, timestamp=ts,
                      on_delivery=on_delivery)
        p.flush(30 * SLOW)
        self.assertEqual(delivered, [], "records acknowledged while the disk was full")
        return errors

    def test_full_disk_refuses_writes_then_recovers_without_loss(self):
        topic = "disk-full"
        self.create_topic(topic, 1)
        acked = {"acks": "all"}
        confluent_produce(self.broker.bootstrap, topic, 100, conf=acked)

        self.full_flag.touch()
        try:
            errors = self.produce_failing(topic, 100, 50)
            self.assertEqual(len(errors), 50)
            # Retried until the message timeout: a retriable answer (KAFKA_STORAGE_ERROR), not
            # MESSAGE_TOO_LARGE, which would fail each record at once.
            names = {e.name() for e in errors}
            self.assertTrue(names <= {"_MSG_TIMED_OUT", "KAFKA_STORAGE_ERROR"}, names)
            self.assert_broker_alive()
            # Reads need no space.
            check_records(self, confluent_consume(self.broker.bootstrap, topic, 1, 100), 100)
        finally:
            self.full_flag.unlink()
        self.assertIn("No space left on device", self.broker.stderr_tail(400))

        # Space is back: the log continues at offset 100 as if the failed writes never were.
        confluent_produce(self.broker.bootstrap, topic, 100, conf=acked, start=150)
        msgs = confluent_consume(self.broker.bootstrap, topic, 1, 200)
        self.assertEqual([m.offset() for m in msgs], list(range(200)))
        self.assertEqual([int(m.key()[1:]) for m in msgs],
                         list(range(100)) + list(range(150, 250)))

        # And a restart (clean: the broker trusts its indexes) finds exactly those records.
        self.assertEqual(self.broker.restart(), 0)
        msgs = confluent_consume(self.broker.bootstrap, topic, 1, 200)
        self.assertEqual([int(m.key()[1:]) for m in msgs],
                         list(range(100)) + list(range(150, 250)))
        self.assertEqual(len(confluent_consume(self.broker.bootstrap, topic, 1, 201,
                                               timeout=2)), 200)

    def test_full_disk_fails_metadata_and_offset_writes_retriably(self):
        from confluent_kafka import Consumer, KafkaException, TopicPartition
        from confluent_kafka.admin import AdminClient, NewTopic
        self.create_topic("disk-full-offsets", 1)
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "g-full",
                             "enable.auto.commit": False})
        commit = [TopicPartition("disk-full-offsets", 0, 0)]
        self.full_flag.touch()
        try:
            with self.assertRaises(Exception) as created:
                admin.create_topics([NewTopic("disk-full-late", 1)])["disk-full-late"].result(
                    10 * SLOW)
            self.assertEqual(created.exception.args[0].name(), "KAFKA_STORAGE_ERROR")
            with self.assertRaises(KafkaException) as committed:
                consumer.commit(offsets=commit, asynchronous=False)
            # A storage failure of the offsets log is the coordinator's: retriable.
            self.assertEqual(committed.exception.args[0].name(), "COORDINATOR_NOT_AVAILABLE")
            self.assert_broker_alive()
        finally:
            self.full_flag.unlink()
        admin.create_topics([NewTopic("disk-full-late", 1)])["disk-full-late"].result(10 * SLOW)
        consumer.commit(offsets=commit, asynchronous=False)
        consumer.close()
        self.assertEqual(self.broker.restart(), 0)
        topics = admin.list_topics(timeout=10 * SLOW).topics
        self.assertIn("disk-full-late", topics)
        check = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "g-full"})
        got = check.committed([TopicPartition("disk-full-offsets", 0)], timeout=10 * SLOW)
        check.close()
        self.assertEqual(got[0].offset, 0)

    def test_after_a_failed_sync_nothing_more_is_acknowledged_until_restart(self):
        topic = "sync-fails"
        self.create_topic(topic, 1)
        confluent_produce(self.broker.bootstrap, topic, 50, conf={"acks": "all"})
        self.sync_flag.touch()
        try:
            self.assertEqual(len(self.produce_failing(topic, 50, 20)), 20)
        finally:
            self.sync_flag.unlink()
        # The disk answers again, but what the failed writeback held may be gone: the
        # partition's segment must not be called durable by a later, successful sync.
        self.assertEqual(len(self.produce_failing(topic, 70, 20)), 20)
        # Other partitions are not affected.
        self.create_topic("sync-fine", 1)
        confluent_produce(self.broker.bootstrap, "sync-fine", 10, conf={"acks": "all"})

        # No clean-shutdown marker after the failed close: the restart recovers the logs.
        self.broker.restart()
        self.assertIn("log shutdown", self.broker.stderr_tail(400))
        confluent_produce(self.broker.bootstrap, topic, 10, conf={"acks": "all"}, start=100)
        msgs = confluent_consume(self.broker.bootstrap, topic, 1, self.end_offset(topic))
        ids = [int(m.key()[1:]) for m in msgs]
        self.assertEqual([m.offset() for m in msgs], list(range(len(msgs))))
        # Every acknowledged record is there; the unacknowledged ones may be too, more than once
        # (they reached the page cache, this disk lost nothing, and the producer retried them).
        self.assertEqual(ids[:50], list(range(50)))
        self.assertEqual(ids[-10:], list(range(100, 110)))
        self.assertTrue(set(ids[50:-10]) <= set(range(50, 90)), ids[50:-10])

    def end_offset(self, topic):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "g-end"})
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10 * SLOW)[1]
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
