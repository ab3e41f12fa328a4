"""Idempotent producers against the real gregord.

- librdkafka's idempotent producer (confluent-kafka 1.7 = librdkafka 2.0.2, acks=all) writes
  200,000 records to 4 partitions through fault_proxy.FaultProxy, which cuts every connection of
  the client every 50-300 ms (resets, and truncations in the middle of a frame). The broker
  advertises the proxy, so every connection goes through it. Afterwards each record is in the
  log exactly once and in order, every delivery report succeeded with the offset the record
  really has, every Produce answer on the wire (first sends and resends) was NONE with the
  batch's real offset, and the batches carry one producer id whose sequences match the offsets.
- The same checks for a stream during which the broker is SIGKILLed and restarted four times,
  each time while a Produce request is in its hands unanswered (the proxy only watches there).
- Raw frames: InitProducerId v0 without transactional id; Produce v7 retries of a batch answer
  its original offsets and write nothing (also for the older of the last five batches); a
  sequence gap or an overlap answers OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch
  INVALID_PRODUCER_EPOCH; an unknown producer may start at any sequence (Kafka 3.x); sequences
  wrap after 2^31-1; malformed idempotent record sets are refused with Kafka's codes; the state
  is unharmed by rejected batches and survives SIGTERM and SIGKILL restarts (with and without
  segment rolls).

Error codes are Errors.java's; the sequence rules are those of Kafka 3.x's
ProducerStateManager / ProducerAppendInfo.checkSequence."""
import collections
import logging
import signal
import struct
import sys
import threading
import time
import unittest

from fault_proxy import FaultProxy
from gregor_harness import SLOW, BrokerTestCase, wait_until
from raw_kafka import Reader, _varint, crc32c
from raw_txn import TxnClient

NONE = 0
CORRUPT_MESSAGE = 2
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
INVALID_RECORD = 87
INT32_MAX = 2**31 - 1

PRODUCE, FETCH, LIST_OFFSETS, INIT_PRODUCER_ID = 0, 1, 2, 22


# ---- raw frames for idempotence (classic, non-flexible encodings) ---------------------------

def _str(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def idempotent_batch(values, producer_id, producer_epoch, base_sequence, base_ts=None):
    """An uncompressed, non-transactional record batch v2 of an idempotent producer holding
    `values` (bytes) as null-key records, with a correct CRC-32C. Timestamps are now by default:
    producer state expires producer.id.expiration.ms after a producer's last record timestamp
    (Kafka's rule), so old timestamps would make the broker forget the producer at a restart."""
    if base_ts is None:
        base_ts = int(time.time() * 1000)
    recs = b""
    for i, v in enumerate(values):
        body = (b"\x00" + _varint(i) + _varint(i) + _varint(-1) + _varint(len(v)) + v
                + _varint(0))
        recs += _varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, base_ts, base_ts + len(values) - 1,
                            producer_id, producer_epoch, base_sequence, len(values)) + recs
    tail = struct.pack(">ibI", -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(tail)) + tail


def _read_varint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return (value >> 1) ^ -(value & 1), pos
        shift += 7


def parse_batches(data, with_records=True):
    """The complete record batches v2 in fetched bytes (a torn last one is dropped)."""
    out = []
    pos = 0
    while pos + 61 <= len(data):
        base_offset, length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + length
        if length < 49 or end > len(data):
            break
        (_ple, magic, crc, attrs, last_delta, _fts, _mts, pid, epoch, base_seq,
         count) = struct.unpack_from(">ibIhiqqqhii", data, pos + 12)
        b = {"base_offset": base_offset, "last_offset": base_offset + last_delta,
             "magic": magic, "crc_ok": crc == crc32c(data[pos + 21:end]), "attributes": attrs,
             "producer_id": pid, "producer_epoch": epoch, "base_sequence": base_seq,
             "count": count, "values": []}
        if with_records and attrs & 0x07 == 0:
            rpos = pos + 61
            for _ in range(count):
                rlen, rpos = _read_varint(data, rpos)
                rend = rpos + rlen
                rpos += 1
                _, rpos = _read_varint(data, rpos)
                _, rpos = _read_varint(data, rpos)
                klen, rpos = _read_varint(data, rpos)
                rpos += max(klen, 0)
                vlen, rpos = _read_varint(data, rpos)
                b["values"].append(None if vlen < 0 else data[rpos:rpos + vlen])
                rpos = rend
        out.append(b)
        pos = end
    return out


class RawClient(TxnClient):
    """raw_txn's connection with the requests this test needs; deadlines scale with SLOW."""

    def __init__(self, port, timeout=10.0):
        super().__init__(port, timeout * SLOW)

    def init_producer_id_v0(self, transactional_id=None, timeout_ms=60000):
        """InitProducerId v0: (error, producer_id, epoch)."""
        r = self.call(INIT_PRODUCER_ID, 0, _str(transactional_id) + struct.pack(">i", timeout_ms))
        r.take(">i")  # throttle_time_ms
        err, pid, epoch = r.take(">hqh")
        if not r.done():
            raise AssertionError("trailing bytes in InitProducerId v0 answer")
        return err, pid, epoch

    def produce(self, topic, partition, records, version=7, acks=-1):
        """Produce v3-v7 of one record set to one partition: (error, base_offset)."""
        body = _str(None) + struct.pack(">hi", acks, 10000)
        body += struct.pack(">i", 1) + _str(topic) + struct.pack(">i", 1)
        body += struct.pack(">ii", partition, len(records)) + records
        r = self.call(PRODUCE, version, body)
        if r.take(">i") != 1 or r.string() != topic or r.take(">i") != 1:
            raise AssertionError("produce answer is not for the one partition asked")
        index, err, base = r.take(">ihq")
        r.take(">q")  # log_append_time_ms
        if version >= 5:
            r.take(">q")  # log_start_offset
        r.take(">i")  # throttle_time_ms
        if index != partition or not r.done():
            raise AssertionError(f"bad produce answer for partition {index}")
        return err, base

    def log_end_offset(self, topic, partition):
        """ListOffsets v2 LATEST (read_uncommitted)."""
        body = struct.pack(">ib", -1, 0) + struct.pack(">i", 1) + _str(topic)
        body += struct.pack(">i", 1) + struct.pack(">iq", partition, -1)
        r = self.call(LIST_OFFSETS, 2, body)
        r.take(">i")
        r.take(">i")
        r.string()
        r.take(">i")
        _index, err, _ts, offset = r.take(">ihqq")
        if err != NONE:
            raise AssertionError(f"ListOffsets {topic}-{partition}: error {err}")
        return offset

    def fetch(self, topic, partition, offset, max_bytes=1 << 20):
        """Fetch v4 (read_uncommitted, no wait): (error, high_watermark, records bytes)."""
        body = struct.pack(">iiiib", -1, 0, 1, max_bytes, 0)
        body += struct.pack(">i", 1) + _str(topic) + struct.pack(">i", 1)
        body += struct.pack(">iqi", partition, offset, max_bytes)
        r = self.call(FETCH, 4, body)
        r.take(">i")  # throttle_time_ms
        r.take(">i")
        r.string()
        r.take(">i")
        _index, err, hw, _lso = r.take(">ihqq")
        n = r.take(">i")
        for _ in range(max(n, 0)):
            r.take(">qq")
        size = r.take(">i")
        data = b"" if size < 0 else r.buf[r.pos:r.pos + size]
        return err, hw, data

    def all_batches(self, topic, partition, with_records=True):
        """Every batch of the partition from offset 0, fetched until the high watermark."""
        batches, offset = [], 0
        while True:
            err, hw, data = self.fetch(topic, partition, offset)
            if err != NONE:
                raise AssertionError(f"Fetch {topic}-{partition}@{offset}: error {err}")
            got = parse_batches(data, with_records)
            if not got:
                if offset < hw:
                    raise AssertionError(f"Fetch {topic}-{partition}@{offset} below the high "
                                         f"watermark {hw} returned no complete batch")
                return batches
            batches += got
            offset = got[-1]["last_offset"] + 1


# ---- librdkafka streams and their checks ----------------------------------------------------

def seq_key(partition, seq):
    return b"%d:%d" % (partition, seq)


def seq_value(partition, seq):
    return b"p%d-s%d-" % (partition, seq) + b"x" * 24


class IdempotentStream:
    """An idempotent confluent-kafka producer writing `per_partition` numbered records to each
    partition (record i goes to partition i % partitions with sequence i // partitions), paced at
    `rate` records/s, in a thread. Delivery reports are counted and their offsets kept."""

    def __init__(self, bootstrap, topic, partitions, per_partition, rate, conf=None):
        from confluent_kafka import Producer
        self.topic, self.partitions, self.per_partition = topic, partitions, per_partition
        self.total = partitions * per_partition
        self.rate = rate
        self.log = collections.deque(maxlen=300)  # librdkafka's log lines, for failures
        logger = logging.getLogger(f"rdkafka-{topic}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        handler = logging.Handler()
        handler.emit = lambda rec: self.log.append(rec.getMessage())
        logger.addHandler(handler)
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 5, "batch.num.messages": 500, "message.timeout.ms": int(300000 * SLOW),
            "retry.backoff.ms": 20, "reconnect.backoff.ms": 10,
            "reconnect.backoff.max.ms": 200, **(conf or {})}, logger=logger)
        self.acked = 0
        self.errors = []
        self.double_reports = 0
        self.offsets = [[-1] * per_partition for _ in range(partitions)]
        self.left = None
        self.exc = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"producer-{topic}")

    def _on_delivery(self, err, msg):
        if err is not None:
            self.errors.append((msg.partition(), msg.key(), str(err)))
            return
        p, s = (int(x) for x in msg.key().split(b":"))
        if self.offsets[p][s] != -1:
            self.double_reports += 1
        self.offsets[p][s] = msg.offset()
        self.acked += 1

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        try:
            start = time.monotonic()
            p = self.producer
            for i in range(self.total):
                part, seq = i % self.partitions, i // self.partitions
                while True:
                    try:
                        p.produce(self.topic, key=seq_key(part, seq), value=seq_value(part, seq),
                                  partition=part, on_delivery=self._on_delivery)
                        break
                    except BufferError:
                        p.poll(0.05)
                if i % 500 == 499:
                    # Pacing: serve delivery reports while ahead of the schedule (poll returns
                    # early once it served an event).
                    while True:
                        ahead = (i + 1) / self.rate - (time.monotonic() - start)
                        if ahead <= 0:
                            break
                        p.poll(ahead)
                    p.poll(0)
            self.left = p.flush(120 * SLOW)
        except BaseException as e:  # noqa: BLE001 - reported by wait()
            self.exc = e
        finally:
            self.done.set()

    def wait(self, test):
        test.assertTrue(self.done.wait(240 * SLOW), "producer thread did not finish")
        if self.exc is not None:
            raise self.exc
        test.assertEqual(self.left, 0, f"{self.left} records still undelivered after flush")


def consume_all(bootstrap, topic, partitions, timeout=90):
    """Every record of every partition from offset 0 up to its high watermark:
    {partition: [(offset, key, value)]}."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "gregor-itest-idem-unused",
                  "enable.auto.commit": False, "enable.auto.offset.store": False,
                  "enable.partition.eof": False, "fetch.max.bytes": 8 << 20})
    try:
        hw = {p: c.get_watermark_offsets(TopicPartition(topic, p), 10 * SLOW)[1]
              for p in range(partitions)}
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        out = {p: [] for p in range(partitions)}
        deadline = time.monotonic() + timeout * SLOW
        while any((out[p][-1][0] + 1 if out[p] else 0) < hw[p] for p in out):
            if time.monotonic() > deadline:
                got = {p: len(v) for p, v in out.items()}
                raise AssertionError(f"consume {topic}: read {got} of high watermarks {hw}")
            for m in c.consume(10000, 0.5):
                if m.error():
                    raise AssertionError(f"consume {topic}: {m.error()}")
                out[m.partition()].append((m.offset(), m.key(), m.value()))
    finally:
        c.close()
    return out, hw


def sequence_problems(seqs, n):
    """'' when seqs is exactly 0..n-1, else what is wrong: duplicates, gaps, reordering."""
    if seqs == list(range(n)):
        return ""
    count = collections.Counter(seqs)
    dups = sorted(s for s, k in count.items() if k > 1)
    missing = sorted(set(range(n)) - set(count))
    backwards = [i for i in range(1, len(seqs)) if seqs[i] <= seqs[i - 1]]
    first = next((i for i in range(min(len(seqs), n)) if seqs[i] != i), min(len(seqs), n))
    return (f"{len(seqs)} records for {n} sequences: {len(dups)} duplicated {dups[:8]}, "
            f"{len(missing)} missing {missing[:8]}, {len(backwards)} steps backwards at "
            f"{backwards[:5]}, first divergence at position {first}: "
            f"{seqs[max(0, first - 3):first + 5]}")


class StreamChecks:
    """Assertions shared by the librdkafka stream tests; a failed test also prints the tail of
    its producer's librdkafka log (set self.stream)."""

    stream = None

    def tearDown(self):
        outcome = getattr(self, "_outcome", None)
        if self.stream is not None and outcome is not None and not outcome.success:
            sys.stderr.write("\n--- librdkafka producer log tail ---\n"
                             + "\n".join(list(self.stream.log)[-80:]) + "\n--- end ---\n")
        super().tearDown()

    def check_stream(self, stream, records, hw):
        s = stream
        self.assertEqual(s.errors, [], f"{len(s.errors)} delivery errors, first {s.errors[:3]}")
        self.assertEqual(s.double_reports, 0, "a record was reported delivered twice")
        self.assertEqual(s.acked, s.total, "successful delivery reports")
        for p in range(s.partitions):
            msgs = records[p]
            seqs = []
            for offset, key, value in msgs:
                kp, seq = (int(x) for x in key.split(b":"))
                self.assertEqual(kp, p, f"record {key} in partition {p}")
                self.assertEqual(value, seq_value(p, seq), f"value of {key}")
                seqs.append(seq)
            self.assertEqual(sequence_problems(seqs, s.per_partition), "", f"partition {p}")
            self.assertEqual([m[0] for m in msgs], list(range(len(msgs))),
                             f"partition {p}: offsets not contiguous from 0")
            self.assertEqual(hw[p], s.per_partition, f"partition {p} high watermark")
            # Every delivery report named the offset the record really has (a retry answered
            # as a duplicate must carry the original offset).
            wrong = [(seq, off) for seq, off in enumerate(s.offsets[p]) if off != seq]
            self.assertEqual(wrong[:5], [], f"partition {p}: {len(wrong)} delivery reports with "
                             "another offset than the record's (seq, reported offset)")

    def check_batches(self, port, topic, partitions, per_partition):
        """One producer id, epoch 0, and base sequence == base offset in every batch: the
        producer never had to reset its sequences. Returns the number of batches."""
        pids, n = set(), 0
        with RawClient(port) as c:
            for p in range(partitions):
                end = 0
                for b in c.all_batches(topic, p, with_records=False):
                    self.assertTrue(b["crc_ok"], b)
                    self.assertEqual((b["producer_epoch"], b["base_sequence"]),
                                     (0, b["base_offset"]), f"partition {p}: {b}")
                    self.assertEqual(b["base_offset"], end, f"partition {p}: {b}")
                    end = b["last_offset"] + 1
                    pids.add(b["producer_id"])
                    n += 1
                self.assertEqual(end, per_partition, f"partition {p} batches end")
        self.assertEqual(len(pids), 1, f"producer ids in the log: {pids}")
        self.assertGreaterEqual(min(pids), 0)
        return n


class ProduceSniffer:
    """Follows the Produce requests and answers that go through the proxy (on_frame hook):
    how often each batch (partition, base sequence, record count) was sent, and what each
    send of it was answered. librdkafka 2.0.2 sends Produce v3-v7 with one batch per
    partition."""

    def __init__(self):
        self.pending = {}  # (connection, correlation id) -> (version, [(part, seq, n, nth)])
        self.sends = collections.Counter()  # (partition, base_sequence, count) -> sends
        self.answers = []  # (partition, base_sequence, count, nth send, error, base_offset)
        self.versions = collections.Counter()
        self.pids = set()
        self.newest = None  # the newest Produce request seen: (connection, correlation id)

    def newest_unanswered(self):
        """True while the newest Produce request went to the broker whole and is unanswered."""
        newest = self.newest
        return newest is not None and newest in self.pending

    def __call__(self, conn, direction, payload):
        if direction == "request":
            api, version, corr = struct.unpack_from(">hhi", payload)
            if api != PRODUCE:
                return
            self.versions[version] += 1
            r = Reader(payload, 8)
            r.string()  # client_id
            r.string()  # transactional_id
            r.take(">hi")  # acks, timeout_ms
            batches = []
            for _ in range(r.take(">i")):
                r.string()
                for _ in range(r.take(">i")):
                    part, size = r.take(">ii")
                    data = payload[r.pos:r.pos + size]
                    r.pos += size
                    for b in parse_batches(data, with_records=False):
                        key = (part, b["base_sequence"], b["count"])
                        self.sends[key] += 1
                        self.pids.add((b["producer_id"], b["producer_epoch"]))
                        batches.append(key + (self.sends[key],))
            self.pending[(conn, corr)] = (version, batches)
            self.newest = (conn, corr)
            return
        corr = struct.unpack_from(">i", payload)[0]
        req = self.pending.pop((conn, corr), None)
        if req is None:
            return
        version, batches = req
        r = Reader(payload, 4)
        answers = {}
        for _ in range(r.take(">i")):
            r.string()
            for _ in range(r.take(">i")):
                index, err, base = r.take(">ihq")
                r.take(">q")  # log_append_time_ms
                if version >= 5:
                    r.take(">q")  # log_start_offset
                if version >= 8:
                    for _ in range(r.take(">i")):
                        r.take(">i")
                        r.string()
                    r.string()
                answers[index] = (err, base)
        for part, seq, n, nth in batches:
            err, base = answers.get(part, (None, None))
            self.answers.append((part, seq, n, nth, err, base))

    def summary(self):
        retried = sum(1 for k in self.sends.values() if k > 1)
        return {"batches": len(self.sends), "sends": sum(self.sends.values()),
                "batches_sent_again": retried,
                "answered_resends": sum(1 for a in self.answers if a[3] > 1),
                "answers": len(self.answers), "versions": dict(self.versions),
                "producer_ids": sorted(self.pids)}


def report(line):
    sys.stderr.write(f"\n[test_idempotence] {line}\n")
    sys.stderr.flush()


class ProxiedBrokerTestCase(StreamChecks, BrokerTestCase):
    """A broker that advertises a FaultProxy in front of it, so every connection of a client
    (after its bootstrap) goes through the proxy; the proxy follows the Produce traffic."""

    needs_real_broker = True
    proxy_options = {}

    @classmethod
    def setUpClass(cls):
        cls.sniffer = ProduceSniffer()
        cls.proxy = FaultProxy(on_frame=cls.sniffer, **cls.proxy_options)
        cls.broker_overrides = {
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{cls.proxy.port}"}
        try:
            super().setUpClass()
        except BaseException:
            cls.proxy.close()
            raise
        cls.proxy.target_port = cls.broker.port
        cls.proxy.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.proxy.close()
        finally:
            super().tearDownClass()

    @property
    def proxy_bootstrap(self):
        return f"127.0.0.1:{self.proxy.port}"

    def check_answers(self):
        """Every Produce answer the client got was NONE with the batch's offset in the log
        (== its base sequence here), for first sends and resends alike. Returns the summary."""
        self.proxy.on_frame = None  # connections opened from now on are not followed
        sniffed = self.sniffer.summary()
        report(f"produce traffic seen by the proxy: {sniffed}")
        self.assertEqual(self.proxy.on_frame_errors[:3], [], "sniffer failures")
        bad = [a for a in self.sniffer.answers if a[4] != NONE or a[5] != a[1]]
        self.assertEqual(bad[:5], [], f"{len(bad)} produce answers with an error or another "
                         "offset than the batch's (partition, seq, count, nth send, error, "
                         "base offset)")
        self.assertEqual(len(sniffed["producer_ids"]), 1, sniffed)
        return sniffed


# ---- 1. connection cuts ---------------------------------------------------------------------

class IdempotenceUnderConnectionCuts(ProxiedBrokerTestCase):
    proxy_options = {"min_interval": 0.05, "max_interval": 0.3, "truncate_fraction": 0.3}

    def test_200k_records_exactly_once_through_cut_connections(self):
        topic, parts, per = "idem-cuts", 4, 50000
        self.create_topic(topic, parts)
        proxy = self.proxy
        bootstrap = self.proxy_bootstrap
        t0 = time.monotonic()
        stream = self.stream = IdempotentStream(bootstrap, topic, parts, per, rate=32000)
        proxy.start_cutting()
        try:
            stream.start()
            stream.wait(self)
        finally:
            proxy.stop_cutting()
        produce_s = time.monotonic() - t0
        stats = proxy.stats()
        report(f"cuts: {stats} while producing {stream.total} records in {produce_s:.1f}s")
        self.assertGreaterEqual(stats["cuts"], 20, f"too few cuts to mean anything: {stats}")
        self.assertGreater(stats["accepted"], stats["cuts"] // 2,
                           f"the client did not reconnect after the cuts: {stats}")
        self.assert_broker_alive()

        sniffed = self.check_answers()
        self.assertGreater(sniffed["batches_sent_again"], 0,
                           "no batch was ever resent: the cuts never hit a request in flight")

        records, hw = consume_all(bootstrap, topic, parts)
        self.check_stream(stream, records, hw)
        n = self.check_batches(self.broker.port, topic, parts, per)
        self.assertEqual(n, sniffed["batches"], "batches in the log vs distinct batches sent")
        report(f"cuts test: {n} batches in the log, all checks passed")
        self.assert_broker_alive()


# ---- 2. broker crashes ----------------------------------------------------------------------

class IdempotenceAcrossBrokerKills(ProxiedBrokerTestCase):
    # The proxy never cuts here; it only lets the test see what was resent and answered.

    def test_sigkill_restarts_during_idempotent_stream(self):
        topic, parts, per = "idem-kill", 3, 20000
        self.create_topic(topic, parts)
        stream = self.stream = IdempotentStream(self.proxy_bootstrap, topic, parts, per,
                                                rate=12000).start()
        at = []
        for point in (4000, 16000, 30000, 45000):
            # Past the point, and at a moment a Produce request is in the broker's hands
            # unanswered: its batch is (about to be) written, and its resend must be found.
            wait_until(lambda: (stream.acked >= point and self.sniffer.newest_unanswered())
                       or stream.done.is_set(), 90,
                       f"{point} acknowledged records and a Produce request in flight",
                       interval=0.002)
            self.assertFalse(stream.done.is_set() and stream.acked < point,
                             f"producer finished early: {stream.acked} acked, "
                             f"errors {stream.errors[:3]}, exc {stream.exc!r}")
            self.assertEqual(self.broker.kill(), -signal.SIGKILL)
            at.append(stream.acked)
            self.broker.start()
        stream.wait(self)
        report(f"kill test: SIGKILLs at {at} acked records; {stream.acked} acked in total; "
               f"proxy {self.proxy.stats()}")
        sniffed = self.check_answers()
        # A last crash with the producer done, right after its final acknowledgements.
        self.assertEqual(self.broker.kill(), -signal.SIGKILL)
        self.broker.start()
        records, hw = consume_all(self.proxy_bootstrap, topic, parts)
        self.check_stream(stream, records, hw)
        n = self.check_batches(self.broker.port, topic, parts, per)
        self.assertEqual(n, sniffed["batches"], "batches in the log vs distinct batches sent")


# ---- 3. raw frames --------------------------------------------------------------------------

class IdempotenceRawProtocol(BrokerTestCase):
    needs_real_broker = True

    def client(self):
        c = RawClient(self.broker.port)
        self.addCleanup(c.close)
        return c

    def new_producer(self, c):
        err, pid, epoch = c.init_producer_id_v0()
        self.assertEqual((err, epoch), (NONE, 0), f"InitProducerId v0 answered pid {pid}")
        self.assertGreaterEqual(pid, 0)
        return pid

    def values(self, tag, n):
        return [b"%s-%d" % (tag.encode(), i) for i in range(n)]

    def assert_log(self, c, topic, partition, expected):
        """expected: [(base_offset, producer_id, epoch, base_sequence, values)] is the whole
        partition."""
        got = [(b["base_offset"], b["producer_id"], b["producer_epoch"], b["base_sequence"],
                b["values"]) for b in c.all_batches(topic, partition)]
        self.assertEqual(got, expected)

    def test_init_producer_id_v0_without_transactional_id(self):
        c = self.client()
        pids = set()
        for _ in range(3):
            err, pid, epoch = c.init_producer_id_v0(None)
            self.assertEqual(err, NONE)
            self.assertEqual(epoch, 0)
            self.assertGreaterEqual(pid, 0)
            pids.add(pid)
        self.assertEqual(len(pids), 3, f"InitProducerId gave a producer id twice: {pids}")

    def test_retry_gap_and_overlap(self):
        topic = "idem-raw-seq"
        self.create_topic(topic, 2)
        c = self.client()
        pid = self.new_producer(c)
        a = idempotent_batch(self.values("a", 3), pid, 0, 0)
        b = idempotent_batch(self.values("b", 2), pid, 0, 3)
        self.assertEqual(c.produce(topic, 0, a), (NONE, 0))
        self.assertEqual(c.log_end_offset(topic, 0), 3)
        # The same batch again (a retry after a lost answer): its original offset, no write.
        self.assertEqual(c.produce(topic, 0, a), (NONE, 0))
        self.assertEqual(c.log_end_offset(topic, 0), 3)
        self.assertEqual(c.produce(topic, 0, b), (NONE, 3))
        # Older retries still answer their own offsets while among the last five batches.
        self.assertEqual(c.produce(topic, 0, a), (NONE, 0))
        self.assertEqual(c.produce(topic, 0, b, version=3), (NONE, 3))
        self.assertEqual(c.log_end_offset(topic, 0), 5)

        # 5 is next: 6 leaves a gap, 4 overlaps b without being it, 3 with another length is
        # not b either.
        for seq, n in ((6, 1), (4, 1), (3, 1), (3, 3), (100, 2)):
            with self.subTest(seq=seq, records=n):
                bad = idempotent_batch(self.values(f"bad{seq}", n), pid, 0, seq)
                self.assertEqual(c.produce(topic, 0, bad), (OUT_OF_ORDER_SEQUENCE_NUMBER, -1))
                self.assertEqual(c.log_end_offset(topic, 0), 5)
        # The rejected batches left the state as it was: 5 follows.
        cbatch = idempotent_batch(self.values("c", 1), pid, 0, 5)
        self.assertEqual(c.produce(topic, 0, cbatch), (NONE, 5))
        self.assertEqual(c.produce(topic, 0, cbatch), (NONE, 5))
        # Sequences are per partition: partition 1 starts at 0 for the same producer.
        self.assertEqual(c.produce(topic, 1, idempotent_batch([b"p1"], pid, 0, 0)), (NONE, 0))
        self.assertEqual(c.log_end_offset(topic, 0), 6)
        self.assertEqual(c.log_end_offset(topic, 1), 1)
        self.assert_log(c, topic, 0, [(0, pid, 0, 0, self.values("a", 3)),
                                      (3, pid, 0, 3, self.values("b", 2)),
                                      (5, pid, 0, 5, self.values("c", 1))])

    def test_duplicate_older_than_the_last_five_batches(self):
        topic = "idem-raw-window"
        self.create_topic(topic, 1)
        c = self.client()
        pid = self.new_producer(c)
        batches = [idempotent_batch([b"w%d" % i], pid, 0, i) for i in range(7)]
        for i, bt in enumerate(batches):
            self.assertEqual(c.produce(topic, 0, bt), (NONE, i))
        # Batches 2-6 are remembered; 0 and 1 neither follow 6 nor are known (Kafka's answer).
        for i in (2, 4, 6):
            self.assertEqual(c.produce(topic, 0, batches[i]), (NONE, i), f"retry of batch {i}")
        for i in (0, 1):
            self.assertEqual(c.produce(topic, 0, batches[i]),
                             (OUT_OF_ORDER_SEQUENCE_NUMBER, -1), f"retry of batch {i}")
        self.assertEqual(c.log_end_offset(topic, 0), 7)
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"w7"], pid, 0, 7)), (NONE, 7))

    def test_producer_epochs(self):
        topic = "idem-raw-epoch"
        self.create_topic(topic, 1)
        c = self.client()
        pid = self.new_producer(c)
        e0 = idempotent_batch([b"e0-0", b"e0-1"], pid, 0, 0)
        self.assertEqual(c.produce(topic, 0, e0), (NONE, 0))
        # A new epoch of a known producer must start at sequence 0.
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"e1-x"], pid, 1, 2)),
                         (OUT_OF_ORDER_SEQUENCE_NUMBER, -1))
        self.assertEqual(c.log_end_offset(topic, 0), 2)
        e1 = idempotent_batch([b"e1-0"], pid, 1, 0)
        self.assertEqual(c.produce(topic, 0, e1), (NONE, 2))
        # Epoch 0 is now older than what the partition saw: the next batch of epoch 0, and
        # a retry of its first batch, are refused.
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"e0-2"], pid, 0, 2)),
                         (INVALID_PRODUCER_EPOCH, -1))
        self.assertEqual(c.produce(topic, 0, e0), (INVALID_PRODUCER_EPOCH, -1))
        self.assertEqual(c.log_end_offset(topic, 0), 3)
        # Epoch 1 goes on unharmed, and its retry is still recognised.
        self.assertEqual(c.produce(topic, 0, e1), (NONE, 2))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"e1-1"], pid, 1, 1)), (NONE, 3))
        self.assertEqual(c.log_end_offset(topic, 0), 4)
        self.assert_log(c, topic, 0, [(0, pid, 0, 0, [b"e0-0", b"e0-1"]),
                                      (2, pid, 1, 0, [b"e1-0"]), (3, pid, 1, 1, [b"e1-1"])])

    def test_unknown_producer_with_nonzero_sequence(self):
        # Kafka 3.x (ProducerAppendInfo.checkSequence): a producer the partition has no state
        # for is accepted at any sequence ("possibly because all producer records have been
        # deleted due to retention"); UNKNOWN_PRODUCER_ID (59) is no longer answered since
        # KIP-360. Only a transactions-v2 verified producer must start at 0.
        topic = "idem-raw-unknown"
        self.create_topic(topic, 1)
        c = self.client()
        known = self.new_producer(c)
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"k0"], known, 0, 0)), (NONE, 0))
        fresh = self.new_producer(c)  # allocated, but never seen by this partition
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"f7", b"f8"], fresh, 0, 7)),
                         (NONE, 1))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"f7", b"f8"], fresh, 0, 7)),
                         (NONE, 1), "retry of the first batch of the new producer")
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"f12"], fresh, 0, 12)),
                         (OUT_OF_ORDER_SEQUENCE_NUMBER, -1))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"f9"], fresh, 0, 9)), (NONE, 3))
        # The other producer's state is untouched: 1 follows, a gap is still refused.
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"k2"], known, 0, 2)),
                         (OUT_OF_ORDER_SEQUENCE_NUMBER, -1))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"k1"], known, 0, 1)), (NONE, 4))
        self.assertEqual(c.log_end_offset(topic, 0), 5)
        self.assert_log(c, topic, 0, [(0, known, 0, 0, [b"k0"]), (1, fresh, 0, 7, [b"f7", b"f8"]),
                                      (3, fresh, 0, 9, [b"f9"]), (4, known, 0, 1, [b"k1"])])

    def test_sequence_wraps_after_int32_max(self):
        # Kafka: the sequence after 2147483647 is 0, also inside one batch
        # (DefaultRecordBatch.incrementSequence, ProducerAppendInfo.inSequence).
        topic = "idem-raw-wrap"
        self.create_topic(topic, 1)
        c = self.client()
        ends_at_max = self.new_producer(c)
        to_max = idempotent_batch([b"m45", b"m46", b"m47"], ends_at_max, 0, INT32_MAX - 2)
        self.assertEqual(c.produce(topic, 0, to_max), (NONE, 0))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"m1"], ends_at_max, 0, 1)),
                         (OUT_OF_ORDER_SEQUENCE_NUMBER, -1))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"m0"], ends_at_max, 0, 0)),
                         (NONE, 3))
        self.assertEqual(c.produce(topic, 0, to_max), (NONE, 0), "retry of the batch at max")

        spans = self.new_producer(c)
        across = idempotent_batch([b"s46", b"s47", b"s0"], spans, 0, INT32_MAX - 1)
        self.assertEqual(c.produce(topic, 0, across), (NONE, 4))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"s0"], spans, 0, 0)),
                         (OUT_OF_ORDER_SEQUENCE_NUMBER, -1), "0 is inside the batch that wrapped")
        self.assertEqual(c.produce(topic, 0, across), (NONE, 4), "retry of the wrapping batch")
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"s1"], spans, 0, 1)), (NONE, 7))
        self.assertEqual(c.log_end_offset(topic, 0), 8)

    def test_malformed_idempotent_record_sets(self):
        topic = "idem-raw-malformed"
        self.create_topic(topic, 1)
        c = self.client()
        pid = self.new_producer(c)
        # LogValidator: a batch with a producer id needs a sequence (INVALID_RECORD).
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"neg"], pid, 0, -1)),
                         (INVALID_RECORD, -1))
        # ProduceRequest.validateRecords (v3+): exactly one batch per partition.
        two = (idempotent_batch([b"t0"], pid, 0, 0) + idempotent_batch([b"t1"], pid, 0, 1))
        self.assertEqual(c.produce(topic, 0, two), (INVALID_RECORD, -1))
        # A batch whose CRC does not match its content (LogValidator: CORRUPT_MESSAGE).
        good = idempotent_batch([b"crc"], pid, 0, 0)
        flipped = good[:-1] + bytes([good[-1] ^ 0x55])
        self.assertEqual(c.produce(topic, 0, flipped), (CORRUPT_MESSAGE, -1))
        self.assertEqual(c.log_end_offset(topic, 0), 0)
        # None of them left a trace in the producer state: sequence 0 still comes first.
        self.assertEqual(c.produce(topic, 0, good), (NONE, 0))
        self.assertEqual(c.produce(topic, 0, idempotent_batch([b"s1"], pid, 0, 1)), (NONE, 1))
        self.assert_log(c, topic, 0, [(0, pid, 0, 0, [b"crc"]), (1, pid, 0, 1, [b"s1"])])

    def test_torn_batch_is_invalid_record(self):
        # A record set that ends inside its only batch: Kafka's MemoryRecords iterator yields no
        # batch for it, so ProduceRequest.validateRecords (v3+) answers INVALID_RECORD ("must
        # have at least one record batch per partition"), which no client retries; not
        # CORRUPT_MESSAGE, which the Java producer retries as a transport corruption.
        topic = "idem-raw-torn"
        self.create_topic(topic, 1)
        c = self.client()
        pid = self.new_producer(c)
        torn = idempotent_batch([b"torn0", b"torn1"], pid, 0, 0)
        for cut in (3, len(torn) // 2):
            with self.subTest(missing_bytes=cut):
                self.assertEqual(c.produce(topic, 0, torn[:-cut]), (INVALID_RECORD, -1))
        self.assertEqual(c.log_end_offset(topic, 0), 0)
        self.assertEqual(c.produce(topic, 0, torn), (NONE, 0))

    def test_state_survives_restarts(self):
        # One topic with the default segment size (state rebuilt by scanning the log) and one
        # that rolls every two batches (state from the snapshot taken at each roll).
        topics = {"idem-raw-restart": None, "idem-raw-restart-roll": {"segment.bytes": "300"}}
        state = {}
        with RawClient(self.broker.port) as c:
            for topic, config in topics.items():
                self.create_topic(topic, 1, config)
                pid = self.new_producer(c)
                sent = [idempotent_batch(self.values(f"{topic}-{i}", 2), pid, 0, 2 * i)
                        for i in range(4)]
                for i, bt in enumerate(sent):
                    self.assertEqual(c.produce(topic, 0, bt), (NONE, 2 * i))
                # Epoch 1 from offset 8 on: epoch 0 is stale from now on.
                bump = idempotent_batch([b"bump"], pid, 1, 0)
                self.assertEqual(c.produce(topic, 0, bump), (NONE, 8))
                state[topic] = {"pid": pid, "last": bump, "seq": 1, "end": 9}
        self.assertGreater(len(self.broker.segment_files("idem-raw-restart-roll", 0)), 2)
        for how in ("SIGTERM", "SIGKILL", "SIGKILL"):
            if how == "SIGTERM":
                self.assertEqual(self.broker.stop(signal.SIGTERM), 0)
            else:
                self.assertEqual(self.broker.kill(), -signal.SIGKILL)
            self.broker.start()
            with RawClient(self.broker.port) as c:
                for topic, st in state.items():
                    with self.subTest(restart=how, topic=topic):
                        pid, end, seq = st["pid"], st["end"], st["seq"]
                        wait_until(lambda: c.log_end_offset(topic, 0) == end, 30,
                                   f"{topic} back with {end} records")
                        # The last batch before the restart is still recognised as a retry.
                        self.assertEqual(c.produce(topic, 0, st["last"]),
                                         (NONE, end - (1 if seq == 1 else 2)))
                        gap = idempotent_batch([b"gap"], pid, 1, seq + 1)
                        self.assertEqual(c.produce(topic, 0, gap),
                                         (OUT_OF_ORDER_SEQUENCE_NUMBER, -1))
                        stale = idempotent_batch([b"stale"], pid, 0, 8)
                        self.assertEqual(c.produce(topic, 0, stale), (INVALID_PRODUCER_EPOCH, -1))
                        nxt = idempotent_batch(self.values(f"n{seq}", 2), pid, 1, seq)
                        self.assertEqual(c.produce(topic, 0, nxt), (NONE, end))
                        self.assertEqual(c.log_end_offset(topic, 0), end + 2)
                        st.update(last=nxt, seq=seq + 2, end=end + 2)

if __name__ == "__main__":
    unittest.main()
