"""Exactly-once consume-transform-produce under crashes: eos_transform.py (read_committed group
consumer, transactional producer, offsets sent in each transaction) turns an input topic into
an output topic while the test SIGKILLs it at random points, 20 times, restarting it each time
with the same transactional.id and group; the last run finishes. The output read with
read_committed must be the input transformed exactly once, in order on every partition.

The seed of the kill schedule is printed; rerun one with GREGOR_EOS_SEED=<seed>."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from gregor_harness import KEEP_TMP, PYTHON, SLOW, BrokerTestCase, wait_until

HERE = Path(__file__).resolve().parent
APP = HERE / "eos_transform.py"
PARTS = 3
N = 9000          # input records, ids 0..N-1, id i on partition i % PARTS
KILLS = 20
SESSION_MS = 1500  # the app's session.timeout.ms: a killed member is gone after this


class EosLoop(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.num.partitions": "5",
    }

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="gregor-eos-"))
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        super().tearDown()
        if not KEEP_TMP:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_app(self, run, seed):
        cmd = [PYTHON, str(APP), "--bootstrap", self.broker.bootstrap, "--input", "eos-in",
               "--output", "eos-out", "--group", "eos-group", "--txn-id", "eos-app",
               "--log", str(self.log_path), "--seed", str(seed),
               "--session-timeout-ms", str(SESSION_MS), "--timeout", str(30 * SLOW)]
        with open(self.tmp / f"run{run}.stderr", "wb") as err:
            p = subprocess.Popen(cmd, stdout=err, stderr=err, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def log_lines(self):
        """The app's events, without their time stamps."""
        try:
            return [ln.split(" ", 1)[1] for ln in self.log_path.read_text().splitlines()]
        except FileNotFoundError:
            return []

    def app_failure(self, run, p, what):
        err = (self.tmp / f"run{run}.stderr").read_text(errors="replace")[-3000:]
        return (f"{what}: run {run} (pid {p.pid}) exit {p.returncode}\n"
                f"log tail: {self.log_lines()[-15:]}\nstderr tail: {err}\nseed {self.seed}")

    def load_input(self):
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 5,
                      "enable.idempotence": True})
        for i in range(N):
            while True:
                try:
                    p.produce("eos-in", key=f"k{i}".encode(), value=f"v{i}".encode(),
                              partition=i % PARTS)
                    break
                except BufferError:
                    p.poll(0.05)
        self.assertEqual(p.flush(60 * SLOW), 0)

    def output_ends(self, isolation):
        """ListOffsets latest of every eos-out partition at `isolation`."""
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "eos-reader",
                      "isolation.level": isolation})
        try:
            return [c.get_watermark_offsets(TopicPartition("eos-out", p), timeout=10 * SLOW,
                                            cached=False)[1] for p in range(PARTS)]
        finally:
            c.close()

    def read_output(self, isolation):
        """{partition: [(key, value)]} of eos-out up to its end (the LSO for read_committed)."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "eos-reader",
                      "isolation.level": isolation, "enable.auto.commit": False,
                      "enable.partition.eof": True})
        try:
            c.assign([TopicPartition("eos-out", p, OFFSET_BEGINNING) for p in range(PARTS)])
            out = {p: [] for p in range(PARTS)}
            eof = set()
            deadline = time.monotonic() + 60 * SLOW
            while len(eof) < PARTS:
                self.assertLess(time.monotonic(), deadline, f"{isolation} read of eos-out")
                for m in c.consume(1000, 0.2):
                    if m.error():
                        self.assertEqual(m.error().code(), KafkaError._PARTITION_EOF, m.error())
                        eof.add(m.partition())
                        continue
                    eof.discard(m.partition())
                    out[m.partition()].append((m.key().decode(), m.value().decode()))
            hw = {p: c.get_watermark_offsets(TopicPartition("eos-out", p), timeout=10 * SLOW,
                                             cached=False)[1] for p in range(PARTS)}
        finally:
            c.close()
        return out, hw

    def test_exactly_once_across_kills(self):
        from confluent_kafka import Consumer, TopicPartition
        self.seed = int(os.environ.get("GREGOR_EOS_SEED", random.randrange(1 << 30)))
        sys.stderr.write(f"\n[eos] seed {self.seed} (GREGOR_EOS_SEED={self.seed} to rerun)\n")
        rng = random.Random(self.seed)
        self.log_path = self.tmp / "app.log"
        self.create_topic("eos-in", PARTS)
        self.create_topic("eos-out", PARTS)
        self.load_input()

        started = time.monotonic()
        kills_mid_txn = kills_early = 0
        for run in range(KILLS):
            before = len(self.log_lines())
            p = self.start_app(run, self.seed * 100 + run)
            if rng.random() < 0.2:
                # Anywhere in start-up: init_transactions aborting the predecessor's
                # transaction, joining the group, fetching offsets, the first transaction.
                time.sleep(rng.uniform(0, 1.0))  # the random kill point
                kills_early += not any(ln.startswith("begin ")
                                       for ln in self.log_lines()[before:])
            else:
                def processing():
                    if p.poll() is not None:
                        raise AssertionError(self.app_failure(run, p, "exited before its kill"))
                    return any(ln.startswith("begin ") for ln in self.log_lines()[before:])
                wait_until(processing, 60, f"run {run} of eos_transform.py to begin a transaction")
                time.sleep(rng.uniform(0.05, 0.5))  # the random kill point
            if p.poll() is not None:
                self.fail(self.app_failure(run, p, "exited before its kill"))
            p.send_signal(signal.SIGKILL)
            p.wait()
            lines = self.log_lines()
            if len(lines) > before and lines[-1].startswith("begin "):
                kills_mid_txn += 1
        sys.stderr.write(f"[eos] {KILLS} kills in {time.monotonic() - started:.1f}s: "
                         f"{kills_mid_txn} mid-transaction, {kills_early} before the first "
                         f"transaction\n")

        p = self.start_app(KILLS, self.seed * 100 + KILLS)
        try:
            rc = p.wait(120 * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.fail(self.app_failure(KILLS, p, "last run did not finish"))
        self.assertEqual(rc, 0, self.app_failure(KILLS, p, "last run failed"))
        self.assertEqual(self.log_lines()[-1], "done")
        lines = self.log_lines()
        commits = sum(ln.startswith("commit ") for ln in lines)
        aborts = [ln for ln in lines if ln.startswith("abort ")]
        sys.stderr.write(f"[eos] total {time.monotonic() - started:.1f}s, {commits} commits, "
                         f"{len(aborts)} aborted by the app {aborts[:5]}\n")
        self.assertGreater(kills_mid_txn, 0, f"no kill landed mid-transaction, seed {self.seed}")

        # The app's last commit was answered before its markers were written, as in Kafka.
        wait_until(lambda: self.output_ends("read_committed") == self.output_ends(
            "read_uncommitted"), 10, "the markers of the last commit")
        out, hw = self.read_output("read_committed")
        for q in range(PARTS):
            want = [(f"k{i}", f"out-v{i}") for i in range(q, N, PARTS)]
            got = out[q]
            if got != want:
                ids = [int(k[1:]) for k, _ in got]
                dups = sorted({i for i in ids if ids.count(i) > 1})
                missing = sorted(set(range(q, N, PARTS)) - set(ids))
                self.fail(f"output partition {q}: {len(got)} records, want {len(want)}; "
                          f"{len(dups)} duplicated {dups[:10]}, {len(missing)} missing "
                          f"{missing[:10]}, in order: {ids == sorted(ids)}; seed {self.seed}")
        # No transaction left hanging: the LSO is the log end.
        uncommitted, hw_all = self.read_output("read_uncommitted")
        self.assertEqual(hw, hw_all, "read_committed end (LSO) short of the high watermark")
        aborted = sum(map(len, uncommitted.values())) - N
        sys.stderr.write(f"[eos] {aborted} aborted output records in the log\n")
        self.assertGreater(aborted, 0, "no aborted output on the broker: kills never hit "
                                       f"a transaction with records sent; seed {self.seed}")

        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "eos-group",
                      "isolation.level": "read_committed"})
        try:
            committed = c.committed([TopicPartition("eos-in", q) for q in range(PARTS)],
                                    timeout=10 * SLOW)
        finally:
            c.close()
        self.assertEqual({tp.partition: tp.offset for tp in committed},
                         {q: N // PARTS for q in range(PARTS)})


if __name__ == "__main__":
    unittest.main()
