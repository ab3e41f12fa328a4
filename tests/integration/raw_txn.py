"""Hand-made frames for the transaction APIs (test_txn_bad_input.py): FindCoordinator,
InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit in their classic
and flexible (compact, tagged-field) encodings, transactional record batches v2, Produce v3-v7,
Fetch v4-v11 with isolation_level and ListOffsets v2-v5. Framing comes from raw_kafka.py.

Field layouts follow clients/src/main/resources/common/message/*.json of Apache Kafka 3.7; the
error codes are Errors.java's."""
import socket
import struct

import raw_kafka
from raw_kafka import _varint, crc32c, frame, read_frame, read_uvarint, request_header

PRODUCE, FETCH, LIST_OFFSETS, FIND_COORDINATOR = 0, 1, 2, 10
INIT_PRODUCER_ID, ADD_PARTITIONS_TO_TXN, ADD_OFFSETS_TO_TXN, END_TXN = 22, 24, 25, 26
TXN_OFFSET_COMMIT = 28

# First flexible version of each API (the "flexibleVersions" of its schema).
FLEXIBLE_FROM = {PRODUCE: 9, FETCH: 12, LIST_OFFSETS: 6, FIND_COORDINATOR: 3,
                 INIT_PRODUCER_ID: 2, ADD_PARTITIONS_TO_TXN: 3, ADD_OFFSETS_TO_TXN: 3,
                 END_TXN: 3, TXN_OFFSET_COMMIT: 3}

# Errors.java
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_LOAD_IN_PROGRESS = 14
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
INVALID_REQUEST = 42
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
CONCURRENT_TRANSACTIONS = 51
OPERATION_NOT_ATTEMPTED = 55
PRODUCER_FENCED = 90
# Answers a client retries (the Java producer's TransactionManager does).
RETRIABLE = {COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR,
             CONCURRENT_TRANSACTIONS}

READ_UNCOMMITTED, READ_COMMITTED = 0, 1

ATTR_TRANSACTIONAL = 0x10
ATTR_CONTROL = 0x20


def flexible(api, version):
    return version >= FLEXIBLE_FROM[api]


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


class Writer:
    """Request body fields in the classic or the compact (flexible) encoding."""

    def __init__(self, flex):
        self.flex = flex
        self.buf = b""

    def int8(self, v):
        self.buf += struct.pack(">b", v)
        return self

    def int16(self, v):
        self.buf += struct.pack(">h", v)
        return self

    def int32(self, v):
        self.buf += struct.pack(">i", v)
        return self

    def int64(self, v):
        self.buf += struct.pack(">q", v)
        return self

    def boolean(self, v):
        return self.int8(1 if v else 0)

    def string(self, s):
        """STRING / NULLABLE_STRING (None) or their COMPACT forms."""
        if s is None:
            self.buf += b"\x00" if self.flex else struct.pack(">h", -1)
            return self
        b = s.encode()
        self.buf += uvarint(len(b) + 1) if self.flex else struct.pack(">h", len(b))
        self.buf += b
        return self

    def array_len(self, n):
        self.buf += uvarint(n + 1) if self.flex else struct.pack(">i", n)
        return self

    def tags(self):
        """The empty tagged-field section that ends every struct of a flexible version."""
        if self.flex:
            self.buf += b"\x00"
        return self


class Reader(raw_kafka.Reader):
    """Response fields in the classic or the compact encoding."""

    def __init__(self, buf, flex, pos=0):
        super().__init__(buf, pos)
        self.flex = flex

    def uvarint(self):
        v, self.pos = read_uvarint(self.buf, self.pos)
        return v

    def string(self):
        if self.flex:
            n = self.uvarint() - 1
        else:
            n = self.take(">h")
        if n < 0:
            return None
        s = self.buf[self.pos:self.pos + n].decode("utf-8", "replace")
        self.pos += n
        return s

    def bytes_(self):
        """BYTES / NULLABLE_BYTES (records) or their compact forms; None for null."""
        n = self.uvarint() - 1 if self.flex else self.take(">i")
        if n < 0:
            return None
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def array_len(self):
        """Element count; -1 for a null array."""
        if self.flex:
            return self.uvarint() - 1
        return self.take(">i")

    def tags(self):
        if not self.flex:
            return
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self.pos += self.uvarint()  # size, then skip the value


# ---- record batches ---------------------------------------------------------------------------

def txn_batch(values, producer_id, producer_epoch, base_sequence=0, transactional=True,
              base_ts=1_700_000_000_000, keys=None):
    """An uncompressed record batch v2 of a producer (attributes bit 4 when transactional)
    holding `values` (bytes) as records with null keys, or with `keys`."""
    recs = b""
    for i, v in enumerate(values):
        k = None if keys is None else keys[i]
        body = b"\x00" + _varint(0) + _varint(i)
        body += _varint(-1) if k is None else _varint(len(k)) + k
        body += _varint(len(v)) + v + _varint(0)
        recs += _varint(len(body)) + body
    attrs = ATTR_TRANSACTIONAL if transactional else 0
    after_crc = struct.pack(">hiqqqhii", attrs, len(values) - 1, base_ts, base_ts, producer_id,
                            producer_epoch, base_sequence, len(values)) + recs
    tail = struct.pack(">ibI", -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(tail)) + tail


def _read_varint(buf, pos):
    v, pos = read_uvarint(buf, pos)
    return (v >> 1) ^ -(v & 1), pos


def parse_batches(data):
    """The complete record batches v2 in a Fetch answer's records (a torn last batch, which a
    broker may send, is dropped): list of dicts with the header fields, and `records` as
    [(key, value)] for uncompressed batches, `marker` ("commit"/"abort") for control batches."""
    out = []
    pos = 0
    data = data or b""
    while pos + 61 <= len(data):
        base_offset, length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + length
        if length < 49 or end > len(data):
            break
        (_epoch, magic, crc, attrs, last_delta, first_ts, max_ts, pid, pepoch, base_seq,
         count) = struct.unpack_from(">ibIhiqqqhii", data, pos + 12)
        b = {"base_offset": base_offset, "last_offset": base_offset + last_delta,
             "magic": magic, "crc_ok": crc == crc32c(data[pos + 21:end]),
             "attributes": attrs, "transactional": bool(attrs & ATTR_TRANSACTIONAL),
             "control": bool(attrs & ATTR_CONTROL), "producer_id": pid,
             "producer_epoch": pepoch, "base_sequence": base_seq, "count": count,
             "records": []}
        if attrs & 0x07 == 0:
            rpos = pos + 61
            for _ in range(count):
                rlen, rpos = _read_varint(data, rpos)
                rend = rpos + rlen
                rpos += 1  # attributes
                _, rpos = _read_varint(data, rpos)  # timestamp delta
                _, rpos = _read_varint(data, rpos)  # offset delta
                klen, rpos = _read_varint(data, rpos)
                key = None if klen < 0 else data[rpos:rpos + klen]
                rpos += max(klen, 0)
                vlen, rpos = _read_varint(data, rpos)
                value = None if vlen < 0 else data[rpos:rpos + vlen]
                b["records"].append((key, value))
                rpos = rend
            if b["control"] and b["records"] and b["records"][0][0]:
                _version, kind = struct.unpack_from(">hh", b["records"][0][0])
                b["marker"] = {0: "abort", 1: "commit"}.get(kind, kind)
        out.append(b)
        pos = end
    return out


# ---- the client ---------------------------------------------------------------------------------

class TxnClient:
    """One connection; each method sends one request and parses its answer."""

    def __init__(self, port, timeout=10.0):
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.corr = 1000

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, api, version, body):
        """Sends a request (header v2 for flexible versions) and returns a Reader positioned
        after the response header (v1, with tagged fields, for flexible versions)."""
        flex = flexible(api, version)
        self.corr += 1
        self.sock.sendall(frame(request_header(api, version, self.corr, flexible=flex) + body))
        r = Reader(read_frame(self.sock, self.timeout), flex)
        corr = r.take(">i")
        if corr != self.corr:
            raise ValueError(f"correlation id {corr}, expected {self.corr}")
        r.tags()
        return r

    # -- coordinators and transactions --

    def find_coordinator(self, key, key_type=1, version=1):
        """FindCoordinator v1-v3: dict(error, node_id, host, port)."""
        w = Writer(flexible(FIND_COORDINATOR, version)).string(key).int8(key_type).tags()
        r = self.call(FIND_COORDINATOR, version, w.buf)
        r.take(">i")  # throttle_time_ms
        out = {"error": r.take(">h")}
        r.string()  # error_message
        out["node_id"] = r.take(">i")
        out["host"] = r.string()
        out["port"] = r.take(">i")
        r.tags()
        return out

    def init_producer_id(self, transactional_id, timeout_ms=60000, version=1, producer_id=-1,
                         producer_epoch=-1):
        """InitProducerId v0-v4 (v3+ send producer_id/epoch): (error, producer_id, epoch)."""
        w = Writer(flexible(INIT_PRODUCER_ID, version)).string(transactional_id).int32(timeout_ms)
        if version >= 3:
            w.int64(producer_id).int16(producer_epoch)
        w.tags()
        r = self.call(INIT_PRODUCER_ID, version, w.buf)
        r.take(">i")
        err, pid, epoch = r.take(">hqh")
        r.tags()
        return err, pid, epoch

    def add_partitions(self, transactional_id, producer_id, producer_epoch, partitions,
                       version=1):
        """AddPartitionsToTxn v0-v3 (partitions: {topic: [index]}): {(topic, index): error}."""
        w = Writer(flexible(ADD_PARTITIONS_TO_TXN, version))
        w.string(transactional_id).int64(producer_id).int16(producer_epoch)
        w.array_len(len(partitions))
        for topic, parts in partitions.items():
            w.string(topic).array_len(len(parts))
            for p in parts:
                w.int32(p)
            w.tags()
        w.tags()
        r = self.call(ADD_PARTITIONS_TO_TXN, version, w.buf)
        r.take(">i")
        out = {}
        for _ in range(r.array_len()):
            topic = r.string()
            for _ in range(r.array_len()):
                p, err = r.take(">ih")
                r.tags()
                out[(topic, p)] = err
            r.tags()
        r.tags()
        return out

    def add_offsets(self, transactional_id, producer_id, producer_epoch, group, version=1):
        """AddOffsetsToTxn v0-v3: error code."""
        w = Writer(flexible(ADD_OFFSETS_TO_TXN, version))
        w.string(transactional_id).int64(producer_id).int16(producer_epoch).string(group).tags()
        r = self.call(ADD_OFFSETS_TO_TXN, version, w.buf)
        r.take(">i")
        err = r.take(">h")
        r.tags()
        return err

    def end_txn(self, transactional_id, producer_id, producer_epoch, commit, version=1):
        """EndTxn v0-v3: error code."""
        w = Writer(flexible(END_TXN, version))
        w.string(transactional_id).int64(producer_id).int16(producer_epoch).boolean(commit)
        w.tags()
        r = self.call(END_TXN, version, w.buf)
        r.take(">i")
        err = r.take(">h")
        r.tags()
        return err

    def txn_offset_commit(self, transactional_id, group, producer_id, producer_epoch, offsets,
                          version=2, generation_id=-1, member_id="", group_instance_id=None):
        """TxnOffsetCommit v0-v3 (offsets: {(topic, partition): offset}):
        {(topic, partition): error}."""
        w = Writer(flexible(TXN_OFFSET_COMMIT, version))
        w.string(transactional_id).string(group).int64(producer_id).int16(producer_epoch)
        if version >= 3:
            w.int32(generation_id).string(member_id).string(group_instance_id)
        by_topic = {}
        for (t, p), off in offsets.items():
            by_topic.setdefault(t, []).append((p, off))
        w.array_len(len(by_topic))
        for t, parts in by_topic.items():
            w.string(t).array_len(len(parts))
            for p, off in parts:
                w.int32(p).int64(off)
                if version >= 2:
                    w.int32(-1)  # committed_leader_epoch
                w.string("").tags()
            w.tags()
        w.tags()
        r = self.call(TXN_OFFSET_COMMIT, version, w.buf)
        r.take(">i")
        out = {}
        for _ in range(r.array_len()):
            t = r.string()
            for _ in range(r.array_len()):
                p, err = r.take(">ih")
                r.tags()
                out[(t, p)] = err
            r.tags()
        r.tags()
        return out

    # -- data --

    def produce(self, topic, partition, records, transactional_id=None, version=3, acks=-1):
        """Produce v3-v7 of one batch to one partition: (error, base_offset)."""
        w = Writer(False).string(transactional_id).int16(acks).int32(10000)
        w.array_len(1).string(topic).array_len(1).int32(partition)
        w.buf += struct.pack(">i", len(records)) + records
        r = self.call(PRODUCE, version, w.buf)
        r.array_len()
        r.string()
        r.array_len()
        _index, err, base = r.take(">ihq")
        r.take(">q")  # log_append_time (v2+)
        return err, base

    def fetch(self, topic, partition, offset, isolation=READ_COMMITTED, version=4,
              max_bytes=1 << 20, max_wait_ms=0):
        """Fetch v4-v11 of one partition (sessionless): dict(error, high_watermark,
        last_stable_offset, aborted [(producer_id, first_offset)] or None, records bytes,
        batches)."""
        w = Writer(False).int32(-1).int32(max_wait_ms).int32(1).int32(max_bytes).int8(isolation)
        if version >= 7:
            w.int32(0).int32(-1)  # session_id, session_epoch: no session
        w.array_len(1).string(topic).array_len(1).int32(partition)
        if version >= 9:
            w.int32(-1)  # current_leader_epoch
        w.int64(offset)
        if version >= 5:
            w.int64(-1)  # log_start_offset (followers only)
        w.int32(max_bytes)
        if version >= 7:
            w.array_len(0)  # forgotten_topics_data
        if version >= 11:
            w.string("")  # rack_id
        r = self.call(FETCH, version, w.buf)
        r.take(">i")  # throttle_time_ms
        if version >= 7:
            r.take(">hi")  # error_code, session_id
        r.array_len()
        r.string()
        r.array_len()
        out = {}
        _index, out["error"], out["high_watermark"], out["last_stable_offset"] = r.take(">ihqq")
        if version >= 5:
            out["log_start_offset"] = r.take(">q")
        n = r.array_len()
        out["aborted"] = None if n < 0 else [r.take(">qq") for _ in range(n)]
        if version >= 11:
            r.take(">i")  # preferred_read_replica
        out["records"] = r.bytes_()
        out["batches"] = parse_batches(out["records"])
        return out

    def list_offsets(self, topic, partition, timestamp=-1, isolation=READ_COMMITTED, version=2):
        """ListOffsets v2-v5 of one partition: (error, offset)."""
        w = Writer(False).int32(-1).int8(isolation)
        w.array_len(1).string(topic).array_len(1).int32(partition)
        if version >= 4:
            w.int32(-1)  # current_leader_epoch
        w.int64(timestamp)
        r = self.call(LIST_OFFSETS, version, w.buf)
        r.take(">i")
        r.array_len()
        r.string()
        r.array_len()
        _index, err, _ts, off = r.take(">ihqq")
        return err, off


# ---- bodies for malformed-request tests -------------------------------------------------------

def valid_bodies(tid="garbage-probe", topic="t", group="g"):
    """A well-formed body per transaction API and version: {(api, version): body bytes}."""
    out = {}
    for v in (1, 3):
        out[(FIND_COORDINATOR, v)] = (Writer(flexible(FIND_COORDINATOR, v)).string(tid)
                                      .int8(1).tags().buf)
    for v in (1, 4):
        w = Writer(flexible(INIT_PRODUCER_ID, v)).string(tid).int32(60000)
        if v >= 3:
            w.int64(-1).int16(-1)
        out[(INIT_PRODUCER_ID, v)] = w.tags().buf
    for v in (1, 3):
        w = Writer(flexible(ADD_PARTITIONS_TO_TXN, v)).string(tid).int64(1).int16(0)
        w.array_len(1).string(topic).array_len(2).int32(0).int32(1).tags().tags()
        out[(ADD_PARTITIONS_TO_TXN, v)] = w.buf
    for v in (1, 3):
        out[(ADD_OFFSETS_TO_TXN, v)] = (Writer(flexible(ADD_OFFSETS_TO_TXN, v)).string(tid)
                                        .int64(1).int16(0).string(group).tags().buf)
    for v in (1, 3):
        out[(END_TXN, v)] = (Writer(flexible(END_TXN, v)).string(tid).int64(1).int16(0)
                             .boolean(True).tags().buf)
    for v in (2, 3):
        w = Writer(flexible(TXN_OFFSET_COMMIT, v)).string(tid).string(group).int64(1).int16(0)
        if v >= 3:
            w.int32(-1).string("").string(None)
        w.array_len(1).string(topic).array_len(1).int32(0).int64(5).int32(-1).string("")
        out[(TXN_OFFSET_COMMIT, v)] = w.tags().tags().tags().buf
    return out


def raw_request(api, version, body, corr_id=77):
    """A framed request with the right header for api/version and whatever body."""
    return frame(request_header(api, version, corr_id, flexible=flexible(api, version)) + body)
