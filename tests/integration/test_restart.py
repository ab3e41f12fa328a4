"""Durability across restarts: SIGTERM mid-production, SIGKILL under acks=all at several points,
and a data dir whose segment tails were torn while the broker was down. Acknowledged records
must all be readable afterwards, and offsets stay contiguous."""
import os
import signal
import subprocess
import unittest

from gregor_harness import BrokerTestCase, SLOW, test_program, wait_until

# librdkafka's default reconnect backoff grows to 10s; the broker comes back much faster.
FAST_RECONNECT = ("reconnect.backoff.ms=50", "reconnect.backoff.max.ms=500",
                  "retry.backoff.ms=100")


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


class Restart(BrokerTestCase):
    needs_real_broker = True

    def start_producer(self, topic, acked_file, count, rate, partitions):
        cmd = [test_program("rdkafka_roundtrip"), "produce-acked", "--bootstrap",
               self.broker.bootstrap, "--topic", topic, "--count", count, "--rate", rate,
               "--partitions", partitions, "--acks", "all", "--acked-file", acked_file,
               "--message-timeout-ms", 90000, "--timeout", 150]
        for kv in FAST_RECONNECT:
            cmd += ["-X", kv]
        log = open(self.broker.tmp / f"{topic}.producer.log", "w")
        proc = subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc

    def finish_producer(self, proc, topic):
        try:
            rc = proc.wait(180 * SLOW)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "timeout"
        log = (self.broker.tmp / f"{topic}.producer.log").read_text()
        self.assertEqual(rc, 0, f"producer failed ({rc}):\n{log[-3000:]}")
        return log

    def wait_acked(self, path, n, proc):
        def enough():
            if proc.poll() is not None and count_lines(path) < n:
                raise AssertionError(f"producer exited early with {proc.returncode}")
            return count_lines(path) >= n
        wait_until(enough, 60, f"{n} acknowledged records in {path}")

    def verify(self, topic, partitions, ids_file):
        out = self.rdkafka("verify-ids", topic, partitions=partitions, ids_file=ids_file,
                           timeout=120, extra=FAST_RECONNECT)
        self.assertIn("OK verify-ids", out.stdout)
        return out.stdout

    def test_sigterm_during_production(self):
        topic, parts = "restart-term", 3
        self.create_topic(topic, parts)
        acked = self.broker.tmp / "term.acked"
        proc = self.start_producer(topic, acked, 60000, 15000, parts)
        self.wait_acked(acked, 15000, proc)
        rc = self.broker.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, f"SIGTERM exit code {rc}:\n{self.broker.stderr_tail()}")
        self.broker.start()
        self.finish_producer(proc, topic)
        self.assertGreaterEqual(count_lines(acked), 15000)
        self.verify(topic, parts, acked)

    def test_sigkill_under_acks_all(self):
        topic, parts = "restart-kill", 3
        self.create_topic(topic, parts)
        acked = self.broker.tmp / "kill.acked"
        proc = self.start_producer(topic, acked, 80000, 12000, parts)
        for point in (3000, 25000, 50000):
            self.wait_acked(acked, point, proc)
            rc = self.broker.kill()
            self.assertEqual(rc, -signal.SIGKILL)
            self.broker.start()
        self.finish_producer(proc, topic)
        # And a crash right after the last acknowledgement, with the producer gone.
        self.broker.kill()
        self.broker.start()
        self.verify(topic, parts, acked)

    def test_torn_tail_recovers(self):
        topic, parts = "torn-tail", 2
        self.create_topic(topic, parts)
        first = self.broker.tmp / "torn1.acked"
        self.rdkafka("produce-acked", topic, count=5000, partitions=parts, acked_file=first,
                     acks="all")
        self.assertEqual(count_lines(first), 5000)
        self.assertEqual(self.broker.stop(signal.SIGTERM), 0)

        # Partition 0: random junk after the last batch. Partition 1: a batch cut short, as a
        # write interrupted by power loss leaves it.
        seg0 = self.broker.segment_files(topic, 0)[-1]
        with open(seg0, "ab") as f:
            f.write(os.urandom(1000))
        seg1 = self.broker.segment_files(topic, 1)[-1]
        data = seg1.read_bytes()
        self.assertGreater(len(data), 200)
        with open(seg1, "ab") as f:
            f.write(data[:len(data) // 3 if len(data) < 3000 else 1000])

        self.broker.start()
        self.verify(topic, parts, first)
        # It keeps serving and appending after the truncated tail.
        second = self.broker.tmp / "torn2.acked"
        self.rdkafka("produce-acked", topic, count=2000, partitions=parts, acked_file=second,
                     id_base=100000, acks="all")
        both = self.broker.tmp / "torn-all.acked"
        both.write_bytes(first.read_bytes() + second.read_bytes())
        self.verify(topic, parts, both)
        # A second restart must not find anything left to repair that loses data.
        self.assertEqual(self.broker.restart(signal.SIGTERM), 0)
        self.verify(topic, parts, both)

    def test_sigkill_with_small_segments(self):
        # Segments roll every few batches, so kills land around rolls and index writes.
        topic, parts = "restart-roll", 2
        self.create_topic(topic, parts, {"segment.bytes": "8192"})
        acked = self.broker.tmp / "roll.acked"
        proc = self.start_producer(topic, acked, 30000, 10000, parts)
        for point in (2000, 12000, 22000):
            self.wait_acked(acked, point, proc)
            self.assertEqual(self.broker.kill(), -signal.SIGKILL)
            self.broker.start()
        self.finish_producer(proc, topic)
        self.assertGreater(len(self.broker.segment_files(topic, 0)), 10)
        self.verify(topic, parts, acked)

    def test_missing_indexes_rebuilt(self):
        from client_helpers import BASE_TS, confluent_consume, confluent_produce
        topic, n = "restart-index", 3000
        self.create_topic(topic, 1, {"segment.bytes": "16384", "retention.ms": "-1"})
        confluent_produce(self.broker.bootstrap, topic, n, conf={"batch.num.messages": 10})
        self.assertEqual(self.broker.stop(signal.SIGTERM), 0)
        removed = 0
        for ext in (".index", ".timeindex"):
            for f in self.broker.segment_files(topic, 0, ext):
                f.unlink()
                removed += 1
        self.assertGreater(removed, 10)
        self.broker.start()
        for start in (0, 1234, 2999):
            with self.subTest(start=start):
                msgs = confluent_consume(self.broker.bootstrap, topic, 1, n - start,
                                         start_offset=start)
                self.assertEqual([m.offset() for m in msgs], list(range(start, n)))
                self.assertEqual(msgs[0].key(), b"k%d" % start)
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "unused"})
        self.addCleanup(c.close)
        got = c.offsets_for_times([TopicPartition(topic, 0, BASE_TS + 10 * 2000 - 5)], 10)
        self.assertEqual(got[0].offset, 2000)

    def test_sigkill_after_topic_changes(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        names = [f"meta-{i}" for i in range(20)]
        for name, fut in admin.create_topics([NewTopic(n, 1 + i % 4, 1)
                                              for i, n in enumerate(names)]).items():
            fut.result(30 * SLOW)
        for fut in admin.delete_topics(names[:5]).values():
            fut.result(30 * SLOW)
        # Acknowledged metadata changes must survive a crash right after the answers.
        self.assertEqual(self.broker.kill(), -signal.SIGKILL)
        self.broker.start()
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        md = admin.list_topics(timeout=10 * SLOW)
        for i, name in enumerate(names):
            if i < 5:
                self.assertNotIn(name, md.topics, f"deleted {name} came back")
            else:
                self.assertIn(name, md.topics)
                self.assertEqual(len(md.topics[name].partitions), 1 + i % 4, name)


if __name__ == "__main__":
    unittest.main()
