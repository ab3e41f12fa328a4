"""gregorctl txn verbs end to end against the real broker and librdkafka transactional
producers: list (with its filters), describe, producers, and abort of a hanging transaction (by
start offset and by producer id/epoch), after which read_committed consumers get past it; and
the errors each verb reports."""
import textwrap

from client_helpers import confluent_consume, confluent_produce
from gregor_harness import PYTHON, BrokerTestCase, run
from group_helpers import gregorctl

TOPIC = "txn-ctl"
PARTS = 2

# A transactional producer that writes to one partition, makes sure the records reached the
# broker, and dies without ending its transaction: a hanging transaction.
HANG = textwrap.dedent("""
    import os, sys
    from confluent_kafka import Producer
    bootstrap, tid, topic, partition, n = sys.argv[1:6]
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": tid,
                  "transaction.timeout.ms": 900000})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(int(n)):
        p.produce(topic, value=f"{tid}-{i}".encode(), partition=int(partition))
    if p.flush(30):
        sys.exit("records not delivered")
    os._exit(0)
""")


class GregorctlTxn(BrokerTestCase):
    needs_real_broker = True

    def hang(self, tid, partition, n=5):
        run([PYTHON, "-c", HANG, self.broker.bootstrap, tid, TOPIC, partition, n], timeout=60)

    def ctl(self, *args, **kw):
        return gregorctl(self.broker, "txn", *args, **kw)

    def producers(self, partition):
        out = self.ctl("producers", "--topic", TOPIC, "--partition", str(partition),
                       json_out=True)
        return {p["producer_id"]: p for p in out["producers"]}

    def read_committed(self, partition, expected):
        msgs = confluent_consume(self.broker.bootstrap, TOPIC, PARTS, expected, timeout=15,
                                 conf={"isolation.level": "read_committed"})
        return [m.value() for m in msgs if m.partition() == partition]

    def test_txn_verbs(self):
        self.create_topic(TOPIC, PARTS)
        confluent_produce(self.broker.bootstrap, TOPIC, 4, PARTS)  # 2 plain records each
        self.hang("hanging-a", 0)
        self.hang("hanging-b", 1, n=3)
        # Records after the open transactions: read_committed stops at the open ones.
        confluent_produce(self.broker.bootstrap, TOPIC, 4, PARTS, start=4)
        self.assertEqual(len(self.read_committed(0, 4)), 2)

        # list, with each filter.
        listed = {t["transactional_id"]: t for t in self.ctl("list", json_out=True)
                  ["transactions"]}
        self.assertEqual(listed["hanging-a"]["state"], "Ongoing", listed)
        self.assertEqual(listed["hanging-b"]["state"], "Ongoing", listed)
        pid_a = listed["hanging-a"]["producer_id"]
        pid_b = listed["hanging-b"]["producer_id"]
        self.assertNotEqual(pid_a, pid_b)
        by_pid = self.ctl("list", "--producer-id", str(pid_a), json_out=True)["transactions"]
        self.assertEqual([t["transactional_id"] for t in by_pid], ["hanging-a"])
        by_state = self.ctl("list", "--state", "CompleteCommit", json_out=True)["transactions"]
        self.assertEqual(by_state, [])
        long_running = self.ctl("list", "--duration-ms", "3600000", json_out=True)
        self.assertEqual(long_running["transactions"], [])
        self.assertIn("hanging-a", self.ctl("list").stdout)

        # describe: the open transaction's partitions and settings.
        desc = self.ctl("describe", "hanging-a", json_out=True)["transactions"][0]
        self.assertEqual((desc["state"], desc["producer_id"], desc["producer_epoch"]),
                         ("Ongoing", pid_a, 0), desc)
        self.assertEqual(desc["timeout_ms"], 900000)
        self.assertEqual(desc["partitions"], [{"topic": TOPIC, "partition": 0}], desc)
        self.assertGreater(desc["start_time_ms"], 0)

        # producers: the hanging transaction starts after the 2 plain records.
        p0 = self.producers(0)
        self.assertEqual(p0[pid_a]["current_txn_start_offset"], 2, p0)
        self.assertEqual(p0[pid_a]["last_sequence"], 4, p0)
        start_b = self.producers(1)[pid_b]["current_txn_start_offset"]
        self.assertEqual(start_b, 2)

        # abort by start offset: the partition's last stable offset moves past it.
        out = self.ctl("abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "2").stdout
        self.assertIn(f"producer {pid_a}", out)
        self.assertIsNone(self.producers(0)[pid_a]["current_txn_start_offset"])
        values = self.read_committed(0, 6)
        self.assertEqual(len(values), 4, values)
        self.assertFalse([v for v in values if v.startswith(b"hanging-a")], values)

        # abort by producer id, epoch and coordinator epoch.
        self.ctl("abort", "--topic", TOPIC, "--partition", "1", "--producer-id", str(pid_b),
                 "--producer-epoch", "0", "--coordinator-epoch", "0")
        self.assertIsNone(self.producers(1)[pid_b]["current_txn_start_offset"])
        self.assertEqual(len(self.read_committed(1, 8)), 4)

        # The errors each verb reports, with the broker's code.
        again = self.ctl("abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "2",
                         check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("no open transaction starts at offset 2", again.stderr)
        unknown = self.ctl("abort", "--topic", "no-such-topic", "--partition", "0",
                           "--producer-id", "7", "--producer-epoch", "0",
                           "--coordinator-epoch", "0", check=False)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", unknown.stderr)
        missing = self.ctl("describe", "no-such-id", check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("TRANSACTIONAL_ID_NOT_FOUND", missing.stderr)
        bogus = self.ctl("list", "--state", "Bogus", check=False)
        self.assertEqual(bogus.returncode, 1)
        self.assertIn("does not know transaction state 'Bogus'", bogus.stderr)
        no_partition = self.ctl("producers", "--topic", TOPIC, "--partition", "9", check=False)
        self.assertEqual(no_partition.returncode, 1)
        self.assertIn("UNKNOWN_TOPIC_OR_PARTITION", no_partition.stderr)
        self.assert_broker_alive()
