"""Behaviour at the edges: long-poll fetches woken by appends, records at and over the size
limit, concurrent producers on one partition, delete and re-create of a topic name, and
Produce v0-2 refused with UNSUPPORTED_VERSION."""
import subprocess
import time
import unittest

import raw_kafka as rk
from client_helpers import confluent_consume, confluent_produce
from gregor_harness import SLOW, BrokerTestCase, test_program, wait_until


class EdgeCases(BrokerTestCase):
    needs_real_broker = True

    def test_long_poll_wakes_on_append(self):
        from confluent_kafka import Consumer, Producer, TopicPartition
        self.create_topic("edge-poll", 1)
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "unused",
                      "enable.auto.commit": False, "fetch.wait.max.ms": 5000})
        self.addCleanup(c.close)
        c.assign([TopicPartition("edge-poll", 0, 0)])
        self.assertIsNone(c.poll(1.0))  # the fetch is now parked on the broker
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 0})
        p.produce("edge-poll", b"wake", partition=0)
        self.assertEqual(p.flush(10 * SLOW), 0)
        t0 = time.monotonic()
        m = c.poll(10 * SLOW)
        waited = time.monotonic() - t0
        self.assertIsNotNone(m)
        self.assertIsNone(m.error())
        self.assertEqual(m.value(), b"wake")
        # max_wait is 5s: an append must answer the parked fetch well before that.
        self.assertLess(waited, 3.0 * SLOW, f"fetch answered after {waited:.1f}s")

    def test_large_records(self):
        from confluent_kafka import Producer
        self.create_topic("edge-big", 1)
        errors = []
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "message.max.bytes": 4000000,
                      "compression.type": "none", "linger.ms": 0})
        p.produce("edge-big", b"a" * 900_000, key=b"big", partition=0,
                  on_delivery=lambda err, msg: errors.append(err))
        p.flush(30 * SLOW)
        self.assertEqual(errors, [None])
        # Over the broker's message.max.bytes (1048588 by default): refused, nothing stored.
        p.produce("edge-big", b"b" * 2_000_000, partition=0,
                  on_delivery=lambda err, msg: errors.append(err))
        p.flush(30 * SLOW)
        self.assertIsNotNone(errors[1], "a 2 MB record was accepted")
        self.assertIn("MSG_SIZE_TOO_LARGE", errors[1].name())
        msgs = confluent_consume(self.broker.bootstrap, "edge-big", 1, 1,
                                 conf={"fetch.max.bytes": 5000000})
        self.assertEqual(len(msgs), 1)
        self.assertEqual((msgs[0].key(), len(msgs[0].value())), (b"big", 900_000))
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "unused"})
        self.addCleanup(c.close)
        self.assertEqual(c.get_watermark_offsets(TopicPartition("edge-big", 0), 10), (0, 1))

    def test_concurrent_producers_one_partition(self):
        self.create_topic("edge-conc", 1)
        procs, files = [], []
        for i in range(4):
            f = self.broker.tmp / f"conc{i}.acked"
            files.append(f)
            cmd = [test_program("rdkafka_roundtrip"), "produce-acked", "--bootstrap",
                   self.broker.bootstrap, "--topic", "edge-conc", "--count", 5000,
                   "--id-base", i * 100000, "--acked-file", f, "--codec",
                   ["none", "gzip", "lz4", "zstd"][i]]
            procs.append(subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True))
        for p in procs:
            out, _ = p.communicate(timeout=120 * SLOW)
            self.assertEqual(p.returncode, 0, out[-2000:])
        both = self.broker.tmp / "conc-all.acked"
        both.write_bytes(b"".join(f.read_bytes() for f in files))
        self.assertEqual(both.read_bytes().count(b"\n"), 20000)
        out = self.rdkafka("verify-ids", "edge-conc", ids_file=both)
        self.assertIn("read=20000", out.stdout)

    def test_delete_and_recreate_is_empty(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        self.create_topic("edge-again", 2)
        confluent_produce(self.broker.bootstrap, "edge-again", 100, partitions=2)
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        admin.delete_topics(["edge-again"])["edge-again"].result(30 * SLOW)

        def recreated():
            fut = admin.create_topics([NewTopic("edge-again", 1, 1)])["edge-again"]
            try:
                fut.result(10 * SLOW)
                return True
            except Exception as e:  # TOPIC_ALREADY_EXISTS while the deletion finishes
                if "ALREADY_EXISTS" not in str(e).upper().replace(" ", "_"):
                    raise
                return False
        wait_until(recreated, 30, "edge-again to be re-creatable after delete")
        self.wait_for_topic("edge-again", 1)
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "unused"})
        self.addCleanup(c.close)
        self.assertEqual(c.get_watermark_offsets(TopicPartition("edge-again", 0), 10), (0, 0))
        confluent_produce(self.broker.bootstrap, "edge-again", 10)
        msgs = confluent_consume(self.broker.bootstrap, "edge-again", 1, 10)
        self.assertEqual([m.offset() for m in msgs], list(range(10)))
        self.assertFalse(self.broker.partition_dir("edge-again", 1).exists(),
                         "partition 1 of the deleted topic is still on disk")

    def test_produce_validates_batches(self):
        import struct
        self.create_topic("edge-raw", 2)
        port = self.broker.port
        good = rk.record_batch([b"z"])
        self.assertEqual(rk.produce_v3(port, "edge-raw", 0, rk.record_batch([b"a", b"b"])), (0, 0))
        self.assertEqual(rk.produce_v3(port, "edge-raw", 0, good), (0, 2))
        corrupt = 2  # CORRUPT_MESSAGE
        invalid = (corrupt, 87)  # or INVALID_RECORD, as Kafka answers some of these
        cases = {
            "bad crc": (rk.record_batch([b"a"], crc_override=1), (corrupt,)),
            "record count lies": (rk.record_batch([b"a"], count_override=5), invalid),
            # Kafka reads no batch from bytes cut inside one: INVALID_RECORD.
            "truncated batch": (good[:-3], (87,)),
            "length past the end": (good[:8] + struct.pack(">i", len(good)) + good[12:], (87,)),
            "no batch": (b"", invalid),
        }
        for name, (records, allowed) in cases.items():
            with self.subTest(case=name):
                err, base = rk.produce_v3(port, "edge-raw", 0, records)
                self.assertIn(err, allowed)
                self.assertEqual(base, -1)
        self.assertEqual(rk.produce_v3(port, "edge-raw", 7, good)[0], 3)
        self.assertEqual(rk.produce_v3(port, "edge-raw-nope", 0, good)[0], 3)
        # Nothing of the refused batches was appended.
        self.assertEqual(rk.produce_v3(port, "edge-raw", 0, good), (0, 3))
        msgs = confluent_consume(self.broker.bootstrap, "edge-raw", 1, 4)
        self.assertEqual([m.value() for m in msgs], [b"a", b"b", b"z", b"z"])

    def test_produce_v2_unsupported(self):
        self.create_topic("edge-v2", 1)
        errors = rk.produce_v2_errors(self.broker.port, "edge-v2")
        if errors is not None:  # closing the connection is the other acceptable answer
            self.assertEqual(errors, [35], "Produce v2 must answer UNSUPPORTED_VERSION")
        self.assertEqual(rk.api_versions(self.broker.port, 3)[1], 0)


if __name__ == "__main__":
    unittest.main()
