"""Transactions with confluent-kafka-python (librdkafka 2.0.2) against the real gregord: commit
and abort across partitions as read_committed and read_uncommitted consumers see them, control
batches in the offsets, the last stable offset while a transaction is open, offsets sent to a
transaction (TxnOffsetCommit), fencing by a newer instance of the same transactional.id, the
broker aborting a transaction that outlives transaction.timeout.ms, and open and committed
transactions across a SIGTERM restart and a SIGKILL crash of the broker."""
import time
import unittest
import uuid

from gregor_harness import SLOW, BrokerTestCase, wait_until

PARTS = 3
PER_TXN = 9  # records per transaction: 3 on each partition
# EndTxn is answered once the decision is durable and the markers follow (Kafka's order), so
# what a commit makes visible is waited for, this long at most.
MARKERS_S = 10

TXN_BROKER_OVERRIDES = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    "offsets.topic.num.partitions": "5",
    "transaction.state.log.num.partitions": "5",
    # The coordinator looks for timed-out transactions this often (Kafka's default: 10 s).
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": "200",
}

# How librdkafka reports a producer fenced by a newer epoch (the broker answers PRODUCER_FENCED
# or, to older request versions, INVALID_PRODUCER_EPOCH; librdkafka raises them as _FENCED).
def _fenced_codes():
    from confluent_kafka import KafkaError
    return {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}


def txn_records(tag, n=PER_TXN, parts=PARTS):
    """[(partition, key, value)] of one transaction: record i goes to partition i % parts."""
    return [(i % parts, f"{tag}-{i}", f"value-{tag}-{i}") for i in range(n)]


def by_partition(records, parts=PARTS):
    out = {p: [] for p in range(parts)}
    for p, k, v in records:
        out[p].append((k, v))
    return out


class TxnTestCase(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = TXN_BROKER_OVERRIDES

    # ---- clients ----------------------------------------------------------------------------

    def producer(self, transactional_id, topics=(), **conf):
        """A transactional producer with init_transactions done and the topics' metadata
        loaded (librdkafka otherwise learns a new topic only on its 1 s metadata timer)."""
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.broker.bootstrap,
                      "transactional.id": transactional_id, "linger.ms": 5, **conf})
        for t in topics:
            p.list_topics(t, timeout=10 * SLOW)
        p.init_transactions(30 * SLOW)
        return p

    def consumer(self, isolation, group=None, **conf):
        from confluent_kafka import Consumer
        c = Consumer({"bootstrap.servers": self.broker.bootstrap,
                      "group.id": group or f"reader-{uuid.uuid4().hex[:8]}",
                      "isolation.level": isolation, "enable.auto.commit": False,
                      "enable.auto.offset.store": False, "enable.partition.eof": True,
                      "auto.offset.reset": "earliest", **conf})
        self.addCleanup(c.close)
        return c

    def produce(self, p, topic, records, flush=True):
        for part, k, v in records:
            p.produce(topic, key=k.encode(), value=v.encode(), partition=part)
        if flush:
            self.assertEqual(p.flush(30 * SLOW), 0, "records left undelivered")

    # ---- reading ----------------------------------------------------------------------------

    def read_until_eof(self, c, parts, msgs=None, timeout=30):
        """Polls c until every partition reported end of partition with nothing after it;
        returns ({partition: [(offset, key, value)]}, {partition: eof offset})."""
        from confluent_kafka import KafkaError
        msgs = msgs if msgs is not None else {p: [] for p in parts}
        eof = {}
        deadline = time.monotonic() + timeout * SLOW
        while len(eof) < len(parts):
            self.assertLess(time.monotonic(), deadline,
                            f"no end of partition on {sorted(set(parts) - set(eof))}; "
                            f"read so far {msgs}")
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof[m.partition()] = m.offset()
                    continue
                self.fail(f"consume error: {m.error()}")
            msgs[m.partition()].append((m.offset(), m.key().decode(), m.value().decode()))
            eof.pop(m.partition(), None)
        return msgs, eof

    def read_all(self, topic, isolation, parts=PARTS):
        """Reads every partition of topic from the beginning to its end (the last stable
        offset under read_committed); returns (messages, eof offsets, positions)."""
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition
        c = self.consumer(isolation)
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(parts)])
        msgs, eof = self.read_until_eof(c, range(parts))
        positions = {tp.partition: tp.offset
                     for tp in c.position([TopicPartition(topic, p) for p in range(parts)])}
        return msgs, eof, positions

    def end_offsets(self, topic, isolation, parts=PARTS):
        """ListOffsets latest at this isolation level: {partition: offset}."""
        from confluent_kafka import TopicPartition
        c = self.consumer(isolation)
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10 * SLOW,
                                           cached=False)[1] for p in range(parts)}

    def assert_visible(self, topic, isolation, expected, end, parts=PARTS):
        """The records a consumer at `isolation` reads are exactly `expected`
        ({partition: [(offset, key, value)]}), it stops at `end` on every partition and its
        position is there, past any trailing control batch. Read again until then, up to a
        deadline: as in Kafka, a commit's markers follow the answer to EndTxn."""
        deadline = time.monotonic() + MARKERS_S * SLOW
        while True:
            msgs, eof, positions = self.read_all(topic, isolation, parts)
            want_end = {p: end for p in range(parts)}
            if (msgs, eof, positions) == (expected, want_end, want_end) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(msgs, expected, f"{isolation} consumer of {topic}")
        self.assertEqual(eof, want_end, f"{isolation} end of partition")
        self.assertEqual(positions, want_end, f"{isolation} positions")

    def assert_end_offsets(self, topic, isolation, expected, msg=None):
        """ListOffsets latest reaches `expected` ({partition: offset}) within the markers'
        deadline."""
        deadline = time.monotonic() + MARKERS_S * SLOW
        while (got := self.end_offsets(topic, isolation)) != expected and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(got, expected, msg)

    def assert_fatal_fenced(self, exc_info, what):
        err = exc_info.exception.args[0]
        self.assertIn(err.code(), _fenced_codes(), f"{what}: {err}")
        self.assertTrue(err.fatal(), f"{what}: not fatal: {err}")


def at(offsets, records):
    """[(offset, key, value)] from a list of offsets and [(key, value)]."""
    return [(o, k, v) for o, (k, v) in zip(offsets, records, strict=True)]


class Transactions(TxnTestCase):

    def test_commit_and_abort_visibility_and_offsets(self):
        """Committed, aborted (flushed first, so on the broker), committed: read_committed
        reads only the committed records, read_uncommitted all; every transaction's marker
        takes one offset on each partition and positions move past it."""
        topic = "txn-basic"
        self.create_topic(topic, PARTS)
        p = self.producer("tx-basic", [topic])
        a, b, c = txn_records("a"), txn_records("b"), txn_records("c")
        p.begin_transaction()
        self.produce(p, topic, a, flush=False)
        p.commit_transaction(30 * SLOW)
        p.begin_transaction()
        self.produce(p, topic, b)  # flushed: abort_transaction would purge unsent records
        p.abort_transaction(30 * SLOW)
        p.begin_transaction()
        self.produce(p, topic, c, flush=False)
        p.commit_transaction(30 * SLOW)

        # Per partition: a at 0-2, commit marker 3, b at 4-6, abort marker 7, c at 8-10,
        # commit marker 11.
        pa, pb, pc = by_partition(a), by_partition(b), by_partition(c)
        committed = {q: at([0, 1, 2], pa[q]) + at([8, 9, 10], pc[q]) for q in range(PARTS)}
        everything = {q: at([0, 1, 2], pa[q]) + at([4, 5, 6], pb[q]) + at([8, 9, 10], pc[q])
                      for q in range(PARTS)}
        self.assert_visible(topic, "read_committed", committed, 12)
        self.assert_visible(topic, "read_uncommitted", everything, 12)
        self.assert_end_offsets(topic, "read_committed", {q: 12 for q in range(PARTS)})
        self.assert_end_offsets(topic, "read_uncommitted",
                         {q: 12 for q in range(PARTS)})

    def test_open_transaction_holds_last_stable_offset(self):
        """While a transaction's records are on the broker but not committed, read_committed
        stops at its first offset (ListOffsets latest and end of partition), read_uncommitted
        reads them; once committed, read_committed gets them too."""
        from confluent_kafka import TopicPartition
        topic = "txn-lso"
        self.create_topic(topic, PARTS)
        p = self.producer("tx-lso", [topic])
        a, e = txn_records("a"), txn_records("e")
        p.begin_transaction()
        self.produce(p, topic, a, flush=False)
        p.commit_transaction(30 * SLOW)
        p.begin_transaction()
        self.produce(p, topic, e)  # on the broker, transaction still open

        pa, pe = by_partition(a), by_partition(e)
        self.assert_end_offsets(topic, "read_committed", {q: 4 for q in range(PARTS)},
                         "read_committed latest offset is not the last stable offset")
        self.assert_end_offsets(topic, "read_uncommitted",
                         {q: 7 for q in range(PARTS)})
        self.assert_visible(topic, "read_uncommitted",
                            {q: at([0, 1, 2], pa[q]) + at([4, 5, 6], pe[q]) for q in range(PARTS)},
                            7)
        # A read_committed consumer reaches the end of every partition at the LSO...
        rc = self.consumer("read_committed")
        rc.assign([TopicPartition(topic, q, 0) for q in range(PARTS)])
        msgs, eof = self.read_until_eof(rc, range(PARTS))
        self.assertEqual(msgs, {q: at([0, 1, 2], pa[q]) for q in range(PARTS)})
        self.assertEqual(eof, {q: 4 for q in range(PARTS)})

        # ... and, once the transaction commits, reads on into it.
        p.commit_transaction(30 * SLOW)
        msgs, eof = self.read_until_eof(rc, range(PARTS), msgs)
        self.assertEqual(msgs, {q: at([0, 1, 2], pa[q]) + at([4, 5, 6], pe[q])
                                for q in range(PARTS)})
        self.assertEqual(eof, {q: 8 for q in range(PARTS)})
        self.assert_end_offsets(topic, "read_committed", {q: 8 for q in range(PARTS)})
        self.assert_end_offsets(topic, "read_uncommitted",
                         {q: 8 for q in range(PARTS)})

    def test_send_offsets_to_transaction(self):
        """Consume from an input topic in a group, produce to an output topic and send the
        consumer's positions in the same transaction: the group's committed offsets move only
        when the transaction commits (pending ones are unstable to read_committed readers),
        and an aborted transaction leaves them where they were."""
        from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition
        src, dst, group = "sot-in", "sot-out", "g-sot"
        self.create_topic(src, PARTS)
        self.create_topic(dst, PARTS)
        feed = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 5})
        for i in range(30):
            feed.produce(src, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % PARTS)
        self.assertEqual(feed.flush(30 * SLOW), 0)

        p = self.producer("tx-sot", [dst])
        c = self.consumer("read_committed", group=group, **{"enable.partition.eof": False,
                                                            "session.timeout.ms": 6000})
        c.subscribe([src])
        tps = [TopicPartition(src, q) for q in range(PARTS)]
        # Readers of the group's committed offsets that are not members of it.
        stable_reader = self.consumer("read_committed", group=group)
        plain_reader = self.consumer("read_uncommitted", group=group)

        def take(n):
            got = []
            deadline = time.monotonic() + 30 * SLOW
            while len(got) < n:
                self.assertLess(time.monotonic(), deadline, f"consumed only {len(got)} of {n}")
                for m in c.consume(n - len(got), 0.5):
                    self.assertIsNone(m.error(), m.error())
                    got.append(m)
            return got

        def positions():
            return {tp.partition: tp.offset for tp in c.position(tps)}

        def committed(reader, timeout=10):
            return {tp.partition: tp.offset for tp in reader.committed(tps, timeout * SLOW)}

        def assert_committed(reader, want):
            """After a commit: its offsets become the group's once its marker is written."""
            deadline = time.monotonic() + MARKERS_S * SLOW
            while (got := committed(reader)) != want and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(got, want)

        def transform(p, msgs):
            for m in msgs:
                p.produce(dst, key=m.key(), value=b"out-" + m.value(), partition=m.partition())

        def send_offsets():
            p.send_offsets_to_transaction(c.position(c.assignment()),
                                          c.consumer_group_metadata(), 30 * SLOW)

        nothing = committed(plain_reader)
        self.assertEqual(nothing, {q: -1001 for q in range(PARTS)})  # OFFSET_INVALID: none yet

        # 1: commit.
        first = take(12)
        pos1 = positions()
        p.begin_transaction()
        transform(p, first)
        send_offsets()
        self.assertEqual(committed(plain_reader), nothing, "offsets visible before commit")
        with self.assertRaises(KafkaException) as cm:
            committed(stable_reader, timeout=1)  # UNSTABLE_OFFSET_COMMIT until it ends
        self.assertEqual(cm.exception.args[0].code(), KafkaError._TIMED_OUT)
        p.commit_transaction(30 * SLOW)
        assert_committed(plain_reader, pos1)
        assert_committed(stable_reader, pos1)
        assert_committed(c, pos1)

        # 2: abort (flushed, so the output records are on the broker).
        second = take(9)
        p.begin_transaction()
        transform(p, second)
        send_offsets()
        self.assertEqual(p.flush(30 * SLOW), 0)
        p.abort_transaction(30 * SLOW)
        self.assertEqual(committed(plain_reader), pos1, "aborted offsets became committed")
        self.assertEqual(committed(stable_reader), pos1)

        # 3: rewind the partitions the aborted batch read to their committed offsets and
        # process everything left, committed this time: every input record once in the output.
        for q in {m.partition() for m in second}:
            c.seek(TopicPartition(src, q, max(pos1[q], 0)))
        third = take(30 - len(first))
        self.assertEqual(sorted(_po(m) for m in third),
                         sorted((q, o) for q in range(PARTS) for o in range(max(pos1[q], 0), 10)))
        self.assertEqual(positions(), {q: 10 for q in range(PARTS)})
        p.begin_transaction()
        transform(p, third)
        send_offsets()
        p.commit_transaction(30 * SLOW)
        assert_committed(plain_reader, {q: 10 for q in range(PARTS)})
        assert_committed(stable_reader, {q: 10 for q in range(PARTS)})

        msgs, _, _ = self.read_all(dst, "read_committed")
        want = {q: [(f"k{i}", f"out-v{i}") for i in range(q, 30, PARTS)] for q in range(PARTS)}
        self.assertEqual({q: [(k, v) for _, k, v in ms] for q, ms in msgs.items()}, want)
        msgs, _, _ = self.read_all(dst, "read_uncommitted")
        self.assertEqual(sum(len(ms) for ms in msgs.values()), 30 + len(second))

    def test_fencing_on_produce(self):
        """A second producer with the same transactional.id fences the first: the first's
        ongoing transaction is aborted, its next produce and commit fail with a fatal fenced
        error, and the new instance's transaction commits."""
        from confluent_kafka import KafkaException
        topic = "txn-fence-produce"
        self.create_topic(topic, PARTS)
        old = self.producer("tx-fence-produce", [topic])
        f, g = txn_records("f"), txn_records("g")
        old.begin_transaction()
        self.produce(old, topic, f)
        self.assert_end_offsets(topic, "read_committed", {q: 0 for q in range(PARTS)})

        new = self.producer("tx-fence-produce", [topic])  # init_transactions aborts f
        self.assert_end_offsets(topic, "read_committed", {q: 4 for q in range(PARTS)},
                         "the fenced producer's transaction was not aborted")
        # No delivery callback on this record: with one, the next client call failed in 3 of 5
        # runs with SystemError (a TypeError left pending inside confluent-kafka 1.7). The
        # read_uncommitted check at the end shows the broker did not take it.
        old.produce(topic, key=b"late", value=b"late", partition=0)
        with self.assertRaises(KafkaException) as cm:
            old.commit_transaction(30 * SLOW)
        self.assert_fatal_fenced(cm, "commit of the fenced producer")
        with self.assertRaises(KafkaException):
            old.begin_transaction()

        new.begin_transaction()
        self.produce(new, topic, g, flush=False)
        new.commit_transaction(30 * SLOW)
        pf, pg = by_partition(f), by_partition(g)
        self.assert_visible(topic, "read_committed", {q: at([4, 5, 6], pg[q])
                                                      for q in range(PARTS)}, 8)
        self.assert_visible(topic, "read_uncommitted",
                            {q: at([0, 1, 2], pf[q]) + at([4, 5, 6], pg[q])
                             for q in range(PARTS)}, 8)

    def test_fencing_on_end_txn(self):
        """The fenced producer's EndTxn (commit without producing anything more) fails with a
        fatal fenced error and its flushed records stay invisible to read_committed."""
        from confluent_kafka import KafkaException
        topic = "txn-fence-end"
        self.create_topic(topic, PARTS)
        old = self.producer("tx-fence-end", [topic])
        f = txn_records("f")
        old.begin_transaction()
        self.produce(old, topic, f)
        new = self.producer("tx-fence-end", [topic])
        with self.assertRaises(KafkaException) as cm:
            old.commit_transaction(30 * SLOW)
        self.assert_fatal_fenced(cm, "EndTxn of the fenced producer")
        self.assert_visible(topic, "read_committed", {q: [] for q in range(PARTS)}, 4)
        pf = by_partition(f)
        self.assert_visible(topic, "read_uncommitted",
                            {q: at([0, 1, 2], pf[q]) for q in range(PARTS)}, 4)
        # The new instance works normally.
        new.begin_transaction()
        self.produce(new, topic, txn_records("g"), flush=False)
        new.commit_transaction(30 * SLOW)
        self.assert_end_offsets(topic, "read_committed", {q: 8 for q in range(PARTS)})

    def test_transaction_timeout(self):
        """A transaction that outlives its transaction.timeout.ms is aborted by the broker on
        its own: the LSO moves past it, its records stay invisible to read_committed, and the
        stalled producer's commit then fails as fenced; the id is usable again afterwards."""
        from confluent_kafka import KafkaException
        topic = "txn-timeout"
        self.create_topic(topic, PARTS)
        timeout_ms = 2000
        p = self.producer("tx-timeout", [topic], **{"transaction.timeout.ms": timeout_ms})
        t = txn_records("t")
        began = time.monotonic()
        p.begin_transaction()
        self.produce(p, topic, t)
        self.assert_end_offsets(topic, "read_committed", {q: 0 for q in range(PARTS)},
                         "open transaction not holding the LSO")
        self.assert_end_offsets(topic, "read_uncommitted",
                         {q: 3 for q in range(PARTS)})

        # The abort marker lands at offset 3 on every partition; LSO = HW = 4.
        wait_until(lambda: self.end_offsets(topic, "read_committed") == {q: 4 for q in
                                                                          range(PARTS)},
                   timeout_ms / 1000 + 15, "the broker to abort the timed-out transaction",
                   interval=0.1)
        aborted_after = time.monotonic() - began
        self.assertGreaterEqual(aborted_after, timeout_ms / 1000 * 0.9,
                                f"aborted after {aborted_after:.2f}s, before its timeout")
        self.assert_end_offsets(topic, "read_uncommitted",
                         {q: 4 for q in range(PARTS)})
        self.assert_visible(topic, "read_committed", {q: [] for q in range(PARTS)}, 4)

        with self.assertRaises(KafkaException) as cm:
            p.commit_transaction(30 * SLOW)
        self.assert_fatal_fenced(cm, "commit after the broker's timeout abort")
        self.assert_visible(topic, "read_committed", {q: [] for q in range(PARTS)}, 4)
        pt = by_partition(t)
        self.assert_visible(topic, "read_uncommitted",
                            {q: at([0, 1, 2], pt[q]) for q in range(PARTS)}, 4)

        again = self.producer("tx-timeout", [topic], **{"transaction.timeout.ms": timeout_ms})
        u = txn_records("u")
        again.begin_transaction()
        self.produce(again, topic, u, flush=False)
        again.commit_transaction(30 * SLOW)
        pu = by_partition(u)
        self.assert_visible(topic, "read_committed", {q: at([4, 5, 6], pu[q])
                                                      for q in range(PARTS)}, 8)


def _po(m):
    return (m.partition(), m.offset())


class TransactionsAcrossRestarts(TxnTestCase):

    def test_restart_and_crash(self):
        """Committed transactions survive a SIGTERM restart and a SIGKILL crash; a transaction
        left open across the SIGTERM restart is still committed by its producer afterwards;
        one left open across the crash holds the LSO after recovery until a new instance of
        the transactional.id inits, which aborts it and then commits its own."""
        from confluent_kafka import KafkaException
        topic = "txn-restart"
        tid = "tx-restart"
        self.create_topic(topic, PARTS)
        p1 = self.producer(tid, [topic])
        a, b, c, d = (txn_records(x) for x in "abcd")
        pa, pb, pc, pd = (by_partition(x) for x in (a, b, c, d))
        p1.begin_transaction()
        self.produce(p1, topic, a, flush=False)
        p1.commit_transaction(30 * SLOW)
        p1.begin_transaction()
        self.produce(p1, topic, b)  # open across the restart

        self.assertEqual(self.broker.restart(), 0, "gregord did not exit 0 on SIGTERM")
        wait_until(lambda: self.end_offsets(topic, "read_uncommitted") ==
                   {q: 7 for q in range(PARTS)}, 30, "partitions back after the restart")
        self.assert_end_offsets(topic, "read_committed", {q: 4 for q in range(PARTS)},
                         "open transaction does not hold the LSO after a restart")
        self.assert_visible(topic, "read_committed", {q: at([0, 1, 2], pa[q])
                                                      for q in range(PARTS)}, 4)
        # The coordinator reloaded the ongoing transaction: its producer can still commit it.
        p1.commit_transaction(60 * SLOW)
        committed = {q: at([0, 1, 2], pa[q]) + at([4, 5, 6], pb[q]) for q in range(PARTS)}
        self.assert_visible(topic, "read_committed", committed, 8)

        p1.begin_transaction()
        self.produce(p1, topic, c)  # open across the crash, at 8-10
        self.broker.kill()
        self.broker.start()
        wait_until(lambda: self.end_offsets(topic, "read_uncommitted") ==
                   {q: 11 for q in range(PARTS)}, 30,
                   "the open transaction's acknowledged records after the crash")
        self.assert_end_offsets(topic, "read_committed", {q: 8 for q in range(PARTS)},
                         "open transaction does not hold the LSO after crash recovery")
        self.assert_visible(topic, "read_committed", committed, 8)

        # A new instance: init_transactions aborts c (marker at 11), then commits d at 12-14.
        p2 = self.producer(tid, [topic])
        self.assert_end_offsets(topic, "read_committed", {q: 12 for q in range(PARTS)},
                         "init_transactions of a new instance did not abort the open one")
        p2.begin_transaction()
        self.produce(p2, topic, d, flush=False)
        p2.commit_transaction(30 * SLOW)
        with self.assertRaises(KafkaException) as cm:
            p1.commit_transaction(30 * SLOW)
        self.assert_fatal_fenced(cm, "commit of the instance fenced after the crash")

        final = {q: committed[q] + at([12, 13, 14], pd[q]) for q in range(PARTS)}
        self.assert_visible(topic, "read_committed", final, 16)
        self.assert_visible(topic, "read_uncommitted",
                            {q: committed[q] + at([8, 9, 10], pc[q]) + at([12, 13, 14], pd[q])
                             for q in range(PARTS)}, 16)

        # Both survive one more clean restart, markers and all.
        self.assertEqual(self.broker.restart(), 0)
        wait_until(lambda: self.end_offsets(topic, "read_committed") ==
                   {q: 16 for q in range(PARTS)}, 30, "LSO 16 after the last restart")
        self.assert_visible(topic, "read_committed", final, 16)


if __name__ == "__main__":
    unittest.main()
