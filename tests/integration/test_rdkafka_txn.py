"""Transactions from a stock librdkafka 2.0.2 C program (rdkafka/rdkafka_txn.c) against the real
gregord, checked with confluent-kafka consumers as a Kafka user would: commit, abort (flushed
first) and commit again, where read_committed reads only the committed records, in order and
at the offsets their delivery reports gave, read_uncommitted reads the aborted ones too and
every transaction marker takes one offset on each partition it wrote to; consume-transform-
produce with rd_kafka_send_offsets_to_transaction, where the group's committed offsets are the
positions sent with the committed transaction and the aborted one leaves them unchanged, so a
new member of the group resumes there; and a producer fenced by a newer instance of its
transactional.id, whose commit fails with a fatal fenced error, with and without a produce
after the fencing."""
import json
import struct
import time
import unittest

from gregor_harness import SLOW, BrokerTestCase, cli_flags, run, test_program

PARTS = 3
PER_TXN = 10  # records per transaction in txn mode: 4 on partition 0, 3 on partitions 1 and 2
NO_OFFSET = -1001  # librdkafka's OFFSET_INVALID: nothing committed / nothing consumed
FENCED_CODES = {"_FENCED", "PRODUCER_FENCED"}

BROKER_OVERRIDES = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    "offsets.topic.num.partitions": "5",
    "transaction.state.log.num.partitions": "5",
}


def txn_record(tag, i, parts=PARTS):
    """(partition, key, value) of record i of transaction `tag`, as rdkafka_txn.c makes it."""
    p = i % parts
    return p, f"{tag}-{i}", f"value-{tag}-{i}-p{p}"


def layout(txns, parts=PARTS):
    """Where the transactions [(tag, [(partition, key, value)])], written one after another
    to a fresh topic, land: ({tag: {partition: [(offset, key, value)]}}, {partition: [marker
    offsets]}, {partition: end offset}). Each transaction's records on a partition are
    followed by its marker there, which takes one offset."""
    placed = {tag: {p: [] for p in range(parts)} for tag, _ in txns}
    markers = {p: [] for p in range(parts)}
    cursor = {p: 0 for p in range(parts)}
    for tag, records in txns:
        for p, k, v in records:
            placed[tag][p].append((cursor[p], k, v))
            cursor[p] += 1
        for p in range(parts):
            if placed[tag][p]:
                markers[p].append(cursor[p])
                cursor[p] += 1
    return placed, markers, cursor


def merge(*views, parts=PARTS):
    return {p: sorted(r for view in views for r in view[p]) for p in range(parts)}


def _varint(data, pos):
    shift = result = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (result >> 1) ^ -(result & 1), pos


def segment_batches(log_path):
    """[(base_offset, last_offset_delta, transactional, control type or None)] of the record
    batches v2 in a segment file; control type is 'commit' or 'abort' from the key of a
    control batch's record."""
    with open(log_path, "rb") as f:
        data = f.read()
    out, pos = [], 0
    while pos + 61 <= len(data):
        base, length, _epoch, magic = struct.unpack_from(">qiib", data, pos)
        if length <= 0 or pos + 12 + length > len(data):
            break
        assert magic == 2, f"{log_path}: batch at {base} has magic {magic}"
        attributes, last_delta = struct.unpack_from(">hi", data, pos + 21)
        control = None
        if attributes & 0x20:
            rpos = pos + 61
            _len, rpos = _varint(data, rpos)
            rpos += 1  # record attributes
            _ts, rpos = _varint(data, rpos)
            _od, rpos = _varint(data, rpos)
            key_len, rpos = _varint(data, rpos)
            assert key_len == 4, f"{log_path}: control key of {key_len} bytes at {base}"
            _version, ctype = struct.unpack_from(">hh", data, rpos)
            control = {0: "abort", 1: "commit"}.get(ctype, f"type {ctype}")
        out.append((base, last_delta, bool(attributes & 0x10), control))
        pos += 12 + length
    return out


class RdkafkaTransactions(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = BROKER_OVERRIDES

    # ---- the C program ----------------------------------------------------------------------

    def rdkafka_txn(self, mode, topic, consumer_props=(), **opts):
        """Runs rdkafka_txn MODE; returns (its JSON report, the completed process)."""
        cmd = [test_program("rdkafka_txn"), mode, "--bootstrap", self.broker.bootstrap,
               "--topic", topic, "--partitions", PARTS, "--timeout", int(30 * SLOW)]
        cmd += cli_flags(opts)
        for kv in consumer_props:
            cmd += ["-C", kv]
        p = run(cmd, timeout=60, check=False)
        reports = [line for line in p.stdout.splitlines() if line.startswith("{")]
        self.assertEqual(len(reports), 1, f"rdkafka_txn {mode}: exit {p.returncode}, no single "
                                          f"JSON report\nstdout: {p.stdout[-3000:]}\n"
                                          f"stderr: {p.stderr[-3000:]}")
        return json.loads(reports[0]), p

    def assert_exit_ok(self, p):
        self.assertEqual(p.returncode, 0, f"rdkafka_txn exit {p.returncode}\n"
                                          f"stderr: {p.stderr[-3000:]}")

    # ---- reading ----------------------------------------------------------------------------

    def consumer(self, isolation, group=None, **conf):
        from confluent_kafka import Consumer
        c = Consumer({"bootstrap.servers": self.broker.bootstrap,
                      "group.id": group or "rdk-txn-reader", "isolation.level": isolation,
                      "enable.auto.commit": False, "enable.auto.offset.store": False,
                      "enable.partition.eof": True, "auto.offset.reset": "earliest", **conf})
        self.addCleanup(c.close)
        return c

    def read_all(self, topic, isolation, end, tag_of=None, parts=PARTS, timeout=30):
        """Reads every partition from the beginning until it reports end of partition at
        end[p] and returns {partition: [(offset, key, value)]}, checking every record's
        headers (tag = tag_of(key), by default the key's prefix) and that the position is
        end[p], past any trailing marker. (In Kafka commit markers are written after EndTxn returns, so a read_committed
        reader may first stop short at an older last stable offset; it then reads on.)"""
        from confluent_kafka import KafkaError, TopicPartition
        c = self.consumer(isolation)
        c.assign([TopicPartition(topic, p, 0) for p in range(parts)])
        msgs = {p: [] for p in range(parts)}
        at_end = set()
        deadline = time.monotonic() + timeout * SLOW
        while len(at_end) < parts:
            self.assertLess(time.monotonic(), deadline,
                            f"{isolation} reader of {topic}: no end of partition at {end} on "
                            f"{sorted(set(range(parts)) - at_end)}; read {msgs}")
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    self.assertLessEqual(m.offset(), end[m.partition()],
                                         f"{isolation} reader of {topic}[{m.partition()}]: end "
                                         f"of partition past the expected end; read {msgs}")
                    if m.offset() == end[m.partition()]:
                        at_end.add(m.partition())
                    continue
                self.fail(f"{isolation} reader of {topic}: {m.error()}")
            key, value = m.key().decode(), m.value().decode()
            tag = tag_of(key) if tag_of else key.rsplit("-", 1)[0]
            self.assertEqual(m.headers(), [("tag", tag.encode())], f"headers of {key}")
            msgs[m.partition()].append((m.offset(), key, value))
            at_end.discard(m.partition())
        positions = {tp.partition: tp.offset
                     for tp in c.position([TopicPartition(topic, p) for p in range(parts)])}
        self.assertEqual(positions, end, f"{isolation} reader of {topic}: positions at the end")
        return msgs

    def end_offsets(self, topic, isolation, parts=PARTS):
        """ListOffsets latest at this isolation level: {partition: offset}."""
        from confluent_kafka import TopicPartition
        c = self.consumer(isolation)
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10 * SLOW,
                                           cached=False)[1] for p in range(parts)}

    def assert_log(self, topic, placed, markers, end, committed_tags, tag_of=None,
                   parts=PARTS):
        """What a Kafka user sees of a topic holding only these transactions: read_committed
        reads exactly the committed ones, read_uncommitted all, both stop at `end` (markers
        included), and no record sits at a marker's offset. Then, on disk, every data batch is
        transactional and every marker offset holds a control batch of the right type."""
        committed = merge(*(placed[t] for t in committed_tags))
        everything = merge(*placed.values())
        self.assertEqual(self.read_all(topic, "read_committed", end, tag_of), committed,
                         "read_committed reader")
        uncommitted = self.read_all(topic, "read_uncommitted", end, tag_of)
        self.assertEqual(uncommitted, everything, "read_uncommitted reader")
        for p in range(parts):
            record_offsets = {o for o, _, _ in uncommitted[p]}
            self.assertEqual(sorted(set(range(end[p])) - record_offsets), markers[p],
                             f"partition {p}: the offsets without a record are not the markers'")
        self.assertEqual(self.end_offsets(topic, "read_committed"), end,
                         "ListOffsets latest (read_committed: last stable offset)")
        self.assertEqual(self.end_offsets(topic, "read_uncommitted"), end,
                         "ListOffsets latest (read_uncommitted: high watermark)")

        outcome = {}
        for tag in placed:
            outcome[tag] = "commit" if tag in committed_tags else "abort"
        for p in range(parts):
            want_markers = []
            for tag, by_part in placed.items():
                if by_part[p]:
                    want_markers.append((by_part[p][-1][0] + 1, outcome[tag]))
            self.assertEqual([m for m, _ in want_markers], markers[p])
            batches = [b for seg in self.broker.segment_files(topic, p)
                       for b in segment_batches(seg)]
            got_markers = [(base, ctype) for base, delta, _, ctype in batches if ctype]
            self.assertEqual(got_markers, want_markers, f"{topic}[{p}]: control batches on disk")
            for base, delta, transactional, ctype in batches:
                self.assertTrue(transactional, f"{topic}[{p}]: batch at {base} not transactional")
                if ctype:
                    self.assertEqual(delta, 0, f"{topic}[{p}]: marker at {base} spans offsets")

    # ---- tests ------------------------------------------------------------------------------

    def test_commit_abort_commit(self):
        """Three transactions of 10 keyed records over 3 partitions: commit, abort after a
        flush (so the aborted records are on the broker), commit."""
        topic = "rdk-txn"
        self.create_topic(topic, PARTS)
        out, p = self.rdkafka_txn("txn", topic, count=PER_TXN, transactional_id="rdk-txn-1")
        self.assert_exit_ok(p)
        tags = ["txn0", "txn1", "txn2"]
        self.assertEqual([(t["tag"], t["outcome"]) for t in out["transactions"]],
                         [("txn0", "commit"), ("txn1", "abort"), ("txn2", "commit")])
        placed, markers, end = layout(
            [(t, [txn_record(t, i) for i in range(PER_TXN)]) for t in tags])
        # p0: txn0 0-3, commit 4, txn1 5-8, abort 9, txn2 10-13, commit 14; p1, p2: 0-2, 3,
        # 4-6, 7, 8-10, 11.
        self.assertEqual(end, {0: 15, 1: 12, 2: 12})
        for t in out["transactions"]:
            # Delivery reports (the aborted transaction's too): partition and offset.
            self.assertEqual(merge({q: [(o, k, v) for q2, o, k, v in t["records"] if q2 == q]
                                    for q in range(PARTS)}), placed[t["tag"]],
                             f"delivery reports of {t['tag']}")
            self.assertEqual([k for _, _, k, _ in t["records"]],
                             [f"{t['tag']}-{i}" for i in range(PER_TXN)])
        self.assert_log(topic, placed, markers, end, committed_tags={"txn0", "txn2"})

    def test_send_offsets_commit_then_abort(self):
        """A read_committed consumer in a group reads 12 records, the transformed records and
        its positions (send_offsets_to_transaction) commit in one transaction; the next 12 the
        same, aborted. The group's offsets are those of the committed transaction, which a new
        member resumes from."""
        from confluent_kafka import Producer, TopicPartition
        src, dst, group = "rdk-sot-in", "rdk-sot-out", "rdk-sot-group"
        n_in, batch = 30, 12
        self.create_topic(src, PARTS)
        self.create_topic(dst, PARTS)
        # One record per batch, and the program's consumer fetches one batch per partition at
        # a time: the transactions read from several partitions.
        feed = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 0,
                         "batch.num.messages": 1})
        for i in range(n_in):
            feed.produce(src, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % PARTS)
        self.assertEqual(feed.flush(30 * SLOW), 0)
        source = {(i % PARTS, i // PARTS): (f"k{i}", f"v{i}") for i in range(n_in)}

        out, p = self.rdkafka_txn("offsets", dst, input=src, group=group, batch=batch,
                                  transactional_id="rdk-sot-1",
                                  consumer_props=["max.partition.fetch.bytes=1"])
        self.assert_exit_ok(p)
        b1, b2 = out["batches"]
        self.assertEqual((b1["outcome"], b2["outcome"]), ("commit", "abort"))

        # What the consumer read: real input records, each partition in order from where the
        # previous batch stopped.
        start = {q: 0 for q in range(PARTS)}
        sent = []
        for b in (b1, b2):
            self.assertEqual(len(b["consumed"]), batch)
            for q, o, k, v in b["consumed"]:
                self.assertEqual(source.get((q, o)), (k, v), f"consumed {q}/{o}")
            for q in range(PARTS):
                offs = [o for q2, o, _, _ in b["consumed"] if q2 == q]
                self.assertEqual(offs, list(range(start[q], start[q] + len(offs))),
                                 f"partition {q}: offsets consumed")
                start[q] += len(offs)
            # The positions sent: one past the last record consumed (none: invalid, ignored).
            sent.append({q: start[q] if start[q] else NO_OFFSET for q in range(PARTS)})
            self.assertEqual({q: o for q, o in b["offsets_sent"]}, sent[-1], "positions sent")
        pos1, pos2 = sent
        # A partition whose fetching starts late (its offset lookup, on a loaded machine) may
        # have nothing in the first transaction; its committed offset then stays unset.
        self.assertGreaterEqual(sum(o > 0 for o in pos1.values()), 2,
                                f"first transaction read fewer than two partitions: {pos1}")

        # The group's committed offsets, as the program's read_committed consumer saw them
        # right after each transaction ended: the committed one's positions, kept by the abort.
        self.assertEqual({q: o for q, o in b1["committed_after"]}, pos1, "after the commit")
        self.assertEqual({q: o for q, o in b2["committed_after"]}, pos1, "after the abort")
        tps = [TopicPartition(src, q) for q in range(PARTS)]
        for isolation in ("read_committed", "read_uncommitted"):
            c = self.consumer(isolation, group=group)
            got = {tp.partition: tp.offset for tp in c.committed(tps, 10 * SLOW)}
            self.assertEqual(got, pos1, f"group offsets read by a {isolation} client")

        # The output topic: batch 1 transformed and committed, batch 2 transformed and aborted,
        # each partition in the order consumed; delivery reports agree.
        txns = [(f"batch{n}", [(q, k, "out-" + v) for q, _, k, v in b["consumed"]])
                for n, b in enumerate((b1, b2))]
        placed, markers, end = layout(txns)
        for (tag, _), b in zip(txns, (b1, b2)):
            self.assertEqual(merge({q: [(o, k, v) for q2, o, k, v in b["produced"] if q2 == q]
                                    for q in range(PARTS)}), placed[tag],
                             f"delivery reports of {tag}")
        tag_of = {k: tag for tag, records in txns for _, k, _ in records}
        self.assert_log(dst, placed, markers, end, committed_tags={"batch0"},
                        tag_of=tag_of.get)

        # A new member of the group starts at the committed offsets: it reads exactly the
        # input records from pos1 on, the aborted batch's included.
        c = self.consumer("read_committed", group=group, **{"enable.partition.eof": False,
                                                            "session.timeout.ms": 6000})
        c.subscribe([src])
        want = sorted((q, o) for (q, o) in source if o >= pos1[q])
        got = []
        deadline = time.monotonic() + 30 * SLOW
        while len(got) < len(want):
            self.assertLess(time.monotonic(), deadline,
                            f"new member read {len(got)} of {len(want)}: {got}")
            for m in c.consume(len(want) - len(got), 0.5):
                self.assertIsNone(m.error(), m.error())
                got.append((m.partition(), m.offset()))
        self.assertEqual(sorted(got), want, "new member did not resume at the committed offsets")
        for q in range(PARTS):
            offs = [o for q2, o in got if q2 == q]
            self.assertEqual(offs, sorted(offs), f"partition {q}: out of order")

    def check_fencing(self, topic, tid, late):
        """Producer `old` has a flushed open transaction when `young` (same transactional.id)
        inits: old's transaction is aborted, its commit fails with a fatal fenced error, so
        does any later call, and young's transaction commits."""
        self.create_topic(topic, PARTS)
        n = 6
        out, p = self.rdkafka_txn("fence", topic, count=n, transactional_id=tid,
                                  late_produce=late)
        err = out["commit_error"]
        self.assertIsNotNone(err, f"the fenced producer's commit succeeded: {out}")
        self.assertIn(err["code"], FENCED_CODES, f"commit of the fenced producer: {err}")
        self.assertTrue(err["fatal"], f"fenced error not fatal: {err}")
        self.assertIn(out["fatal_error"]["code"], FENCED_CODES, out["fatal_error"])
        after = out["begin_after_fatal"]
        self.assertIsNotNone(after, "begin_transaction after the fatal error succeeded")
        self.assertTrue(after["fatal"], after)
        if late:
            # A produce with the fenced epoch: Kafka answers INVALID_PRODUCER_EPOCH, librdkafka
            # fails the record (as that or as _FENCED) and never acknowledges it.
            self.assertTrue(out["late"]["reported"], out["late"])
            self.assertIn(out["late"]["error"], FENCED_CODES | {"INVALID_PRODUCER_EPOCH"},
                          out["late"])
        else:
            self.assertIsNone(out["late"])
        self.assert_exit_ok(p)

        # old's records at 0-1 on each partition, the abort written by young's InitProducerId
        # at 2, young's at 3-4, its commit at 5.
        placed, markers, end = layout([("old", [txn_record("old", i) for i in range(n)]),
                                       ("young", [txn_record("young", i) for i in range(n)])])
        self.assertEqual(end, {q: 6 for q in range(PARTS)})
        for key, tag in (("fenced_records", "old"), ("committed_records", "young")):
            self.assertEqual(merge({q: [(o, k, v) for q2, o, k, v in out[key] if q2 == q]
                                    for q in range(PARTS)}), placed[tag],
                             f"delivery reports of {tag}")
        self.assert_log(topic, placed, markers, end, committed_tags={"young"})

    def test_fencing_on_end_txn(self):
        self.check_fencing("rdk-fence-end", "rdk-fence-end", late=False)

    def test_fencing_on_produce(self):
        self.check_fencing("rdk-fence-produce", "rdk-fence-produce", late=True)


if __name__ == "__main__":
    unittest.main()
