"""gregor.log.page.cache.window.bytes: with a small window, a stock producer's data is evicted
from the page cache a window behind each partition's end, and stock consumers still read every
record back, from disk, before and after a restart."""
import os
import subprocess
import unittest

from client_helpers import confluent_consume
from gregor_harness import BrokerTestCase, SLOW

WINDOW = 1 << 20
PARTS = 2
N = 6000
VALUE = 4096  # 24 MB in all, 12 MB per partition


def value_of(i):
    return (f"{i:08d}".encode() * (VALUE // 8))


def resident_bytes(path):
    """Bytes of `path` in the page cache, from util-linux's fincore (mincore(2))."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES",
                          str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def on_tmpfs(path):
    out = subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True)
    return out.stdout.strip() == "tmpfs"


class PageCacheWindow(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {"gregor.log.page.cache.window.bytes": WINDOW}

    def produce(self, topic):
        from confluent_kafka import Producer
        errors = []
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 5,
                      "acks": "all", "enable.idempotence": True})
        for i in range(N):
            p.produce(topic, value=value_of(i), key=str(i).encode(), partition=i % PARTS,
                      on_delivery=lambda err, msg: err and errors.append(err))
            p.poll(0)
        self.assertEqual(p.flush(60 * SLOW), 0)
        self.assertEqual(errors, [])

    def consume_all(self, topic):
        msgs = confluent_consume(self.broker.bootstrap, topic, PARTS, N)
        self.assertEqual(len(msgs), N)
        got = {int(m.key()): m for m in msgs}
        self.assertEqual(len(got), N)
        for i in range(N):
            m = got[i]
            self.assertEqual((m.partition(), m.offset()), (i % PARTS, i // PARTS))
            self.assertEqual(m.value(), value_of(i), f"record {i}")

    def test_old_data_leaves_the_cache_and_reads_back(self):
        if on_tmpfs(self.broker.data_dir):
            self.skipTest("data dir on tmpfs: nothing to write back to")
        topic = "pcw"
        self.create_topic(topic, PARTS)
        self.produce(topic)
        for p in range(PARTS):
            [log] = self.broker.segment_files(topic, p)
            size = os.path.getsize(log)
            self.assertGreater(size, 10 * WINDOW)
            # The window and one 2 MiB eviction step stay; the rest of ~12 MB is gone.
            self.assertLess(resident_bytes(log), size // 2, log)
        self.consume_all(topic)
        self.broker.restart()
        self.consume_all(topic)


if __name__ == "__main__":
    unittest.main()
