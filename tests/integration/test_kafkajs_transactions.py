"""kafkajs 2.2.4 idempotent and transactional producers against Gregor: idempotent records come
back exactly once and in order; committed and aborted transactions across partitions are told
apart by kafkajs's and librdkafka's read_committed consumers; transaction.sendOffsets commits a
group's offsets only when its transaction commits."""
import json
import unittest

from client_helpers import check_records, confluent_consume
from gregor_harness import SLOW, BrokerTestCase, run
from group_helpers import GROUP_BROKER_OVERRIDES
from raw_txn import READ_COMMITTED, READ_UNCOMMITTED, TxnClient
from test_kafkajs import JS_DIR, ensure_kafkajs


class KafkajsTransactions(BrokerTestCase):
    needs_real_broker = True  # the mock cluster has no CreateTopics
    broker_overrides = GROUP_BROKER_OVERRIDES

    @classmethod
    def setUpClass(cls):
        ensure_kafkajs()
        super().setUpClass()

    def node(self, mode, *args, timeout=120):
        """Runs txn_client.js MODE and returns its JSON line."""
        out = run(["node", JS_DIR / "txn_client.js", mode, self.broker.bootstrap, *args],
                  timeout=timeout, env={"GREGOR_ITEST_SLOWDOWN": str(SLOW)})
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        self.assertTrue(lines, f"no JSON from txn_client.js {mode}: {out.stdout}\n{out.stderr}")
        res = json.loads(lines[-1])
        self.assertTrue(res.get("ok"), res)
        return res

    def fetch_all(self, topic, partition, isolation):
        """Every batch of a partition from offset 0 (raw Fetch v4) and the last answer."""
        batches = []
        with TxnClient(self.broker.port, timeout=10 * SLOW) as c:
            offset = 0
            while True:
                r = c.fetch(topic, partition, offset, isolation=isolation, version=4)
                self.assertEqual(r["error"], 0, r)
                if not r["batches"]:
                    return batches, r
                batches += r["batches"]
                offset = r["batches"][-1]["last_offset"] + 1

    def test_idempotent_producer_exactly_once_in_order(self):
        topic, parts, n = "kjs-idempotent", 3, 1500
        self.create_topic(topic, parts)
        res = self.node("idempotent", topic, parts, n)
        self.assertEqual(res["sends"], 6)
        msgs = confluent_consume(self.broker.bootstrap, topic, parts, n)
        check_records(self, msgs, n, parts)  # each record once, in order, offsets from 0

        # The batches really are idempotent: one producer id on every partition, epoch 0,
        # sequences contiguous from 0 in each partition, nothing transactional.
        pids = set()
        for p in range(parts):
            batches, last = self.fetch_all(topic, p, READ_UNCOMMITTED)
            self.assertEqual(last["high_watermark"], n // parts)
            seq = 0
            for b in batches:
                self.assertTrue(b["crc_ok"], b)
                self.assertFalse(b["transactional"] or b["control"], b)
                self.assertGreaterEqual(b["producer_id"], 0, b)
                self.assertEqual(b["producer_epoch"], 0, b)
                self.assertEqual(b["base_sequence"], seq, f"partition {p}: {b}")
                self.assertEqual(b["base_offset"], seq, f"partition {p}: {b}")
                seq += b["count"]
                pids.add(b["producer_id"])
            self.assertEqual(seq, n // parts)
        self.assertEqual(len(pids), 1, pids)

    def test_committed_and_aborted_transactions(self):
        topic, parts, per = "kjs-txn", 3, 6
        self.create_topic(topic, parts)
        res = self.node("transactions", topic, parts, per, "kjs-txn-id")
        self.assertEqual(len(res["sent"]["a"]), parts * per)

        # Per partition: c1 at 0..5, COMMIT marker 6, a at 7..12, ABORT marker 13,
        # c2 at 14..19, COMMIT marker 20.
        expected = []
        for p in range(parts):
            expected += [(p, j, f"c1-{p}-{j}") for j in range(per)]
            expected += [(p, per + 1 + per + 1 + j, f"c2-{p}-{j}") for j in range(per)]
        expected.sort()

        js = self.node("consume", topic, "kjs-txn-reader", len(expected))
        got = sorted((p, off, key) for p, off, key, _value in js["msgs"])
        self.assertEqual(got, expected, "kafkajs read_committed consumer")
        for p, off, key, value in js["msgs"]:
            self.assertEqual(value, f"{key}-value")
        # Within a partition kafkajs hands records over in offset order.
        for p in range(parts):
            offs = [off for q, off, _k, _v in js["msgs"] if q == p]
            self.assertEqual(offs, sorted(offs), f"partition {p} out of order")

        rdk = confluent_consume(self.broker.bootstrap, topic, parts, len(expected),
                                conf={"isolation.level": "read_committed"})
        self.assertEqual(sorted((m.partition(), m.offset(), m.key().decode()) for m in rdk),
                         expected, "librdkafka read_committed consumer")

        # The aborted records are in the log: read_uncommitted sees all three transactions.
        everything = confluent_consume(self.broker.bootstrap, topic, parts, 3 * parts * per,
                                       conf={"isolation.level": "read_uncommitted"})
        keys = sorted(m.key().decode() for m in everything)
        self.assertEqual(keys, sorted(sum(res["sent"].values(), [])))

        # On the wire: read_committed lists the aborted transaction, markers sit where they
        # should, and the last stable offset is the end of the log.
        pids = set()
        for p in range(parts):
            batches, last = self.fetch_all(topic, p, READ_COMMITTED)
            self.assertEqual((last["high_watermark"], last["last_stable_offset"]),
                             (3 * per + 3, 3 * per + 3), f"partition {p}")
            markers = [(b["base_offset"], b.get("marker")) for b in batches if b["control"]]
            self.assertEqual(markers, [(per, "commit"), (2 * per + 1, "abort"),
                                       (3 * per + 2, "commit")], f"partition {p}")
            data = [b for b in batches if not b["control"]]
            self.assertTrue(all(b["transactional"] for b in data), data)
            pids |= {b["producer_id"] for b in batches}
            first = self._aborted(topic, p)
            self.assertEqual(first, [(data[0]["producer_id"], per + 1)], f"partition {p}")
        self.assertEqual(len(pids), 1, pids)

    def _aborted(self, topic, partition):
        with TxnClient(self.broker.port, timeout=10 * SLOW) as c:
            r = c.fetch(topic, partition, 0, isolation=READ_COMMITTED, version=4)
        return [tuple(a) for a in r["aborted"]]

    def test_send_offsets_commits_group_offsets(self):
        from confluent_kafka import Consumer, TopicPartition
        in_topic, out_topic, group = "kjs-eos-in", "kjs-eos-out", "kjs-eos-group"
        self.create_topic(in_topic, 2)
        self.create_topic(out_topic, 1)
        committed, aborted = {"0": 7, "1": 3}, {"0": 100, "1": 200}
        res = self.node("send-offsets", in_topic, out_topic, group, "kjs-eos-txn",
                        json.dumps(committed), json.dumps(aborted))
        want = {"0": 7, "1": 3}
        self.assertEqual(res["afterCommit"], want, "kafkajs admin.fetchOffsets after commit")
        self.assertEqual(res["afterAbort"], want, "an aborted sendOffsets changed the offsets")

        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": group,
                      "enable.auto.commit": False})
        try:
            tps = c.committed([TopicPartition(in_topic, 0), TopicPartition(in_topic, 1)],
                              timeout=10 * SLOW)
        finally:
            c.close()
        self.assertEqual([(tp.partition, tp.offset, tp.error) for tp in tps],
                         [(0, 7, None), (1, 3, None)])

        # The records of the three transactions: the aborted one is not read_committed.
        # Offsets: committed 0, COMMIT 1, aborted 2, ABORT 3, tail 4, COMMIT 5.
        rc = confluent_consume(self.broker.bootstrap, out_topic, 1, 2,
                               conf={"isolation.level": "read_committed"})
        self.assertEqual([(m.offset(), m.key()) for m in rc], [(0, b"committed"), (4, b"tail")])
        ru = confluent_consume(self.broker.bootstrap, out_topic, 1, 3,
                               conf={"isolation.level": "read_uncommitted"})
        self.assertEqual([(m.offset(), m.key()) for m in ru],
                         [(0, b"committed"), (2, b"aborted"), (4, b"tail")])


if __name__ == "__main__":
    unittest.main()
