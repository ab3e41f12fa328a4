"""Just enough of the Kafka wire format, by hand, to send well-formed and malformed requests
over raw sockets (test_bad_input.py): framing, request headers v1/v2, ApiVersions."""
import socket
import struct
import time

API_VERSIONS = 18


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def request_header(api_key, version, corr_id, client_id="gregor-itest", flexible=False):
    cid = client_id.encode()
    hdr = struct.pack(">hhih", api_key, version, corr_id, len(cid)) + cid
    return hdr + (b"\x00" if flexible else b"")  # header v2 adds empty tagged fields


def api_versions_request(version, corr_id):
    if version >= 3:
        # Flexible body: compact strings client_software_name/version, then tagged fields.
        body = b"\x07gregor" + b"\x040.1" + b"\x00"
        return frame(request_header(API_VERSIONS, version, corr_id, flexible=True) + body)
    return frame(request_header(API_VERSIONS, version, corr_id))


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_frame(sock, timeout=10.0):
    deadline = time.monotonic() + timeout
    (size,) = struct.unpack(">i", recv_exact(sock, 4, deadline))
    if size < 0 or size > 100 << 20:
        raise ValueError(f"bad response size {size}")
    return recv_exact(sock, size, deadline)


def parse_api_versions_v0(resp, version=0):
    """Response header v0 + ApiVersions v0-2 body: (corr_id, error_code, {key: (min, max)}).
    v1 and v2 append throttle_time_ms."""
    corr, err, n = struct.unpack_from(">ihi", resp, 0)
    if n < 0 or len(resp) != 10 + 6 * n + (4 if version >= 1 else 0):
        raise ValueError(f"ApiVersions v0 body of {len(resp)} bytes does not hold {n} entries")
    apis = {}
    for i in range(n):
        k, lo, hi = struct.unpack_from(">hhh", resp, 10 + 6 * i)
        apis[k] = (lo, hi)
    return corr, err, apis


def read_uvarint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def parse_api_versions_v3(resp):
    """Response header v0 (ApiVersions never uses v1) + flexible v3 body."""
    corr, err = struct.unpack_from(">ih", resp, 0)
    n, pos = read_uvarint(resp, 6)
    apis = {}
    for _ in range(n - 1):
        k, lo, hi = struct.unpack_from(">hhh", resp, pos)
        pos += 6
        tags, pos = read_uvarint(resp, pos)
        if tags:
            raise ValueError("unexpected tagged fields in api entry")
        apis[k] = (lo, hi)
    return corr, err, apis


def api_versions(port, version=3, corr_id=7, timeout=10.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(api_versions_request(version, corr_id))
        resp = read_frame(s, timeout)
    return parse_api_versions_v3(resp) if version >= 3 else parse_api_versions_v0(resp, version)


def closed_by_peer(sock, timeout=10.0):
    """True once the peer closes (EOF or reset) within timeout; data received is discarded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
    return False


def _string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class Reader:
    """Classic-encoding response fields, read in order from `pos`."""

    def __init__(self, buf, pos=0):
        self.buf, self.pos = buf, pos

    def take(self, fmt):
        vals = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals if len(vals) > 1 else vals[0]

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.buf[self.pos:self.pos + n].decode("utf-8", "replace")
        self.pos += n
        return s

    def done(self):
        return self.pos == len(self.buf)


def metadata_v4(port, topics, allow_auto_create, corr_id=11, timeout=10.0):
    """Metadata v4 for `topics`: {name: (error_code, partition_count)}."""
    body = struct.pack(">i", len(topics)) + b"".join(_string(t) for t in topics)
    body += b"\x01" if allow_auto_create else b"\x00"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(frame(request_header(3, 4, corr_id) + body))
        r = Reader(read_frame(s, timeout))
    if r.take(">i") != corr_id:
        raise ValueError("correlation id mismatch")
    r.take(">i")  # throttle_time_ms
    for _ in range(r.take(">i")):  # brokers: node_id, host, port, rack
        r.take(">i")
        r.string()
        r.take(">i")
        r.string()
    r.string()  # cluster_id
    r.take(">i")  # controller_id
    out = {}
    for _ in range(r.take(">i")):
        err = r.take(">h")
        name = r.string()
        r.take(">b")  # is_internal
        n = r.take(">i")
        for _ in range(n):
            r.take(">hii")  # error_code, partition_index, leader_id
            for _ in range(2):  # replica_nodes, isr_nodes
                for _ in range(r.take(">i")):
                    r.take(">i")
        out[name] = (err, n)
    return out


def produce_v2_errors(port, topic, corr_id=21, timeout=10.0):
    """Produce v2 (listed but refused, as AK 4.0 does) with an empty record set: returns the
    per-partition error codes of the response, or None if the broker closed the connection."""
    body = struct.pack(">hi", 1, 5000) + struct.pack(">i", 1) + _string(topic)
    body += struct.pack(">i", 1) + struct.pack(">ii", 0, 0)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(frame(request_header(0, 2, corr_id) + body))
        try:
            r = Reader(read_frame(s, timeout))
        except ConnectionError:
            return None
    if r.take(">i") != corr_id:
        raise ValueError("correlation id mismatch")
    errors = []
    for _ in range(r.take(">i")):
        r.string()
        for _ in range(r.take(">i")):
            _index, err, _base, _append_time = r.take(">ihqq")
            errors.append(err)
    return errors


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _varint(n):
    n = (n << 1) ^ (n >> 63)  # zigzag
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def record_batch(values, base_ts=1_700_000_000_000, count_override=None, crc_override=None):
    """An uncompressed record batch v2 (no producer id) holding `values` as null-key records."""
    recs = b""
    for i, v in enumerate(values):
        body = b"\x00" + _varint(0) + _varint(i) + _varint(-1) + _varint(len(v)) + v + _varint(0)
        recs += _varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, base_ts, base_ts, -1, -1, -1,
                            len(values) if count_override is None else count_override) + recs
    crc = crc32c(after_crc) if crc_override is None else crc_override
    tail = struct.pack(">ibI", -1, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(tail)) + tail


def produce_v3(port, topic, partition, records, corr_id=31, timeout=10.0):
    """Produce v3, acks=-1: returns (error_code, base_offset) for the one partition."""
    body = struct.pack(">hhi", -1, -1, 10000) + struct.pack(">i", 1) + _string(topic)
    body += struct.pack(">i", 1) + struct.pack(">ii", partition, len(records)) + records
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(frame(request_header(0, 3, corr_id) + body))
        r = Reader(read_frame(s, timeout))
    if r.take(">i") != corr_id:
        raise ValueError("correlation id mismatch")
    r.take(">i")  # topics
    r.string()
    r.take(">i")  # partitions
    _index, err, base, _append_time = r.take(">ihqq")
    return err, base
