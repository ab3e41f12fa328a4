"""Malformed input over raw sockets: every bad connection is closed or answered with a Kafka
error, and the broker keeps serving others, without leaking descriptors or memory. Also the
ApiVersions table that stock clients depend on."""
import os
import random
import socket
import struct
import unittest

import raw_kafka as rk
from gregor_harness import BrokerTestCase, wait_until

MAX_REQUEST = 1 << 20


class BadInput(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {"socket.request.max.bytes": MAX_REQUEST}

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=10)
        self.addCleanup(s.close)
        return s

    def assert_serving(self):
        self.assert_broker_alive()
        corr, err, apis = rk.api_versions(self.broker.port, 3, corr_id=4242)
        self.assertEqual((corr, err), (4242, 0))
        self.assertIn(rk.API_VERSIONS, apis)

    # ---- the table clients rely on (PROTOCOL-NOTES §0) --------------------------------------

    def test_api_versions_table(self):
        for v in (0, 1, 2, 3):
            with self.subTest(version=v):
                corr, err, apis = rk.api_versions(self.broker.port, v, corr_id=100 + v)
                self.assertEqual((corr, err), (100 + v, 0))
                # librdkafka 2.0.2 sends uncompressed batches unless Produce 0 is listed.
                self.assertEqual(apis[0][0], 0, f"Produce range {apis[0]}")
                self.assertGreaterEqual(apis[0][1], 7, "Produce v7 needed for zstd")
                self.assertLessEqual(apis[1][0], 4, f"Fetch range {apis[1]}")
                self.assertTrue(10 <= apis[1][1] <= 12, f"Fetch range {apis[1]}")
                self.assertLessEqual(apis[2][0], 1, f"ListOffsets range {apis[2]}")
                self.assertEqual(apis[3][0], 0, "Metadata v0 is kafka-python's probe")
                self.assertEqual(apis[10][0], 0, "FindCoordinator v0 gates LZ4 in librdkafka")
                self.assertEqual(apis[18], (0, 3))
                self.assertEqual(apis[22], (0, 4), "InitProducerId v0 gates librdkafka's "
                                 "idempotent producer")
                # Transactions (librdkafka's txnmgr asks for v0 of each).
                for key, top in ((24, 3), (25, 3), (26, 3), (27, 1), (28, 3)):
                    self.assertEqual(apis[key], (0, top), f"API {key}")
                self.assertEqual((apis[61], apis[65], apis[66]), ((0, 0), (0, 0), (0, 1)))

    def test_api_versions_unknown_version(self):
        s = self.connect()
        s.sendall(rk.api_versions_request(99, 31337))
        corr, err, apis = rk.parse_api_versions_v0(rk.read_frame(s))
        self.assertEqual(corr, 31337)
        self.assertEqual(err, 35, "UNSUPPORTED_VERSION")
        self.assertTrue(apis, "the error response must still list the supported versions")
        self.assertEqual(apis.get(rk.API_VERSIONS, (None, None))[0], 0)
        # The connection stays usable for a supported version.
        s.sendall(rk.api_versions_request(3, 31338))
        self.assertEqual(rk.parse_api_versions_v3(rk.read_frame(s))[:2], (31338, 0))

    def test_pipelined_requests_answered_in_order(self):
        s = self.connect()
        reqs = b"".join(rk.api_versions_request(v % 4, 1000 + v) for v in range(60))
        s.sendall(reqs)
        for v in range(60):
            resp = rk.read_frame(s)
            self.assertEqual(struct.unpack_from(">i", resp)[0], 1000 + v)

    def test_frames_split_anywhere_are_read_whole(self):
        # The broker reads ahead into a 16 KiB buffer: frames that straddle its reads, frames
        # larger than it, and several frames in one read must all come out whole and in order.
        rng = random.Random(7)
        reqs = []
        for corr in range(2000, 2040):
            client_id = "c" * rng.choice((1, 100, 5000, 16 * 1024 - 20, 16 * 1024 + 3, 30000))
            reqs.append(rk.frame(rk.request_header(rk.API_VERSIONS, 0, corr, client_id=client_id)))
        stream = b"".join(reqs)
        s = self.connect()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        at = 0
        while at < len(stream):
            step = rng.choice((1, 3, 4, 5, 700, 16 * 1024, 40000))
            s.sendall(stream[at:at + step])
            at += step
        for corr in range(2000, 2040):
            corr_got, err, _ = rk.parse_api_versions_v0(rk.read_frame(s))
            self.assertEqual((corr_got, err), (corr, 0))

    def test_many_idle_connections_released(self):
        self.assert_serving()
        base_fds = self.broker.fd_count()
        socks = [socket.create_connection(("127.0.0.1", self.broker.port), timeout=5)
                 for _ in range(300)]
        self.assert_serving()
        for s in socks:
            s.close()
        wait_until(lambda: self.broker.fd_count() <= base_fds + 2, 20,
                   f"gregord's descriptors back to {base_fds} after 300 idle connections")

    # ---- malformed frames ---------------------------------------------------------------------

    def test_truncated_frame_then_close(self):
        s = self.connect()
        s.sendall(struct.pack(">i", 100) + b"\x00\x12\x00\x03" + b"\x00" * 6)
        s.close()
        self.assert_serving()

    def test_size_larger_than_sent_does_not_block_others(self):
        s = self.connect()
        s.sendall(struct.pack(">i", 1000) + b"\x00\x12\x00\x00" + b"x" * 46)
        self.assert_serving()
        s.close()
        self.assert_serving()

    def test_negative_size_closes(self):
        s = self.connect()
        s.sendall(struct.pack(">i", -5) + b"junkjunk")
        self.assertTrue(rk.closed_by_peer(s), "broker kept a connection with a negative size")
        self.assert_serving()

    def test_zero_size_frame(self):
        s = self.connect()
        s.sendall(struct.pack(">i", 0))
        self.assertTrue(rk.closed_by_peer(s), "broker kept a connection after an empty frame")
        self.assert_serving()

    def test_random_bytes(self):
        rnd = random.Random(7)
        for _ in range(20):
            s = self.connect()
            try:
                s.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000))))
            except OSError:
                pass  # the broker may close before we finish sending
            s.close()
        self.assert_serving()

    def test_unknown_api_key(self):
        s = self.connect()
        s.sendall(rk.frame(rk.request_header(9999, 0, 77) + b"\x00" * 8))
        # Kafka closes the connection; an error response is also acceptable.
        try:
            resp = rk.read_frame(s, timeout=10)
            self.assertEqual(struct.unpack_from(">i", resp)[0], 77)
        except (ConnectionError, OSError):
            pass
        self.assert_serving()

    def test_garbage_body_for_known_api(self):
        s = self.connect()
        # Metadata v1 whose topic array claims a billion entries.
        s.sendall(rk.frame(rk.request_header(3, 1, 78) + struct.pack(">i", 1 << 30)))
        try:
            rk.read_frame(s, timeout=10)
        except (ConnectionError, OSError):
            pass
        self.assert_serving()

    def test_oversized_frame_closed(self):
        s = self.connect()
        s.sendall(struct.pack(">i", MAX_REQUEST + 1024) + rk.request_header(18, 0, 9))
        closed = rk.closed_by_peer(s, timeout=5)
        if not closed:
            # Some brokers only notice while reading; keep streaming, it must not buffer it all.
            try:
                for _ in range(2 * MAX_REQUEST // 65536):
                    s.sendall(b"\x00" * 65536)
            except OSError:
                closed = True
            closed = closed or rk.closed_by_peer(s, timeout=5)
        self.assertTrue(closed, "frame above socket.request.max.bytes was not refused")
        self.assert_serving()

    def test_many_junk_connections_no_leak(self):
        self.assert_serving()
        base_fds = self.broker.fd_count()
        base_rss = self.broker.rss_kb()
        rnd = random.Random(11)
        junk = [
            lambda: struct.pack(">i", 100) + b"\x00\x12",
            lambda: struct.pack(">i", -1),
            lambda: struct.pack(">i", MAX_REQUEST * 4) + b"x" * 100,
            lambda: os.urandom(rnd.randint(1, 512)),
            lambda: rk.frame(rk.request_header(9999, 0, 1)),
            lambda: rk.api_versions_request(99, 1),
            lambda: rk.api_versions_request(3, 1)[:-3],
        ]
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=5)
            try:
                s.sendall(junk[i % len(junk)]())
                if i % 3 == 0:
                    s.shutdown(socket.SHUT_WR)
                    rk.closed_by_peer(s, timeout=0.2)
            except OSError:
                pass
            finally:
                s.close()
        self.assert_serving()
        wait_until(lambda: self.broker.fd_count() <= base_fds + 2, 20,
                   f"gregord's descriptors back to {base_fds} (now {self.broker.fd_count()})")
        rss = self.broker.rss_kb()
        self.assertLess(rss, base_rss + 64 * 1024, f"RSS grew from {base_rss} kB to {rss} kB")


if __name__ == "__main__":
    unittest.main()
