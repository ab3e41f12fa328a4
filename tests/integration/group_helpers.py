"""Helpers for the consumer-group integration tests (test_groups_*.py): group_consumer member
processes and their report files, a background producer of numbered records, gregorctl, and
hand-made group requests (JoinGroup, SyncGroup, Heartbeat, OffsetCommit) for raw-socket tests."""
import json
import signal
import socket
import struct
import subprocess
import threading
import time

from gregor_harness import SLOW, gregorctl_path, run, test_program, wait_until
from raw_kafka import Reader, _string, frame, read_frame, request_header

# Broker settings for group tests: no initial rebalance delay, short sessions allowed.
GROUP_BROKER_OVERRIDES = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    "offsets.topic.num.partitions": "5",
}

# librdkafka settings that make membership changes quick to observe.
FAST_MEMBER = ["session.timeout.ms=6000", "heartbeat.interval.ms=500",
               "topic.metadata.refresh.interval.ms=2000"]


class GroupConsumer:
    """One group_consumer process (librdkafka high-level consumer) and its report file."""

    def __init__(self, broker, topic, group, out_path, strategy="range", instance_id=None,
                 extra=(), exit_after=None, timeout=240):
        self.out_path = out_path
        cmd = [test_program("group_consumer"), "--bootstrap", broker.bootstrap, "--topic", topic,
               "--group", group, "--out", out_path, "--strategy", strategy,
               "--timeout", str(int(timeout * SLOW))]
        if instance_id:
            cmd += ["--instance-id", instance_id]
        if exit_after:
            cmd += ["--exit-after", str(exit_after)]
        # librdkafka's group state machine logs to the member's stderr file (~10 KB/s), so a
        # member that fails to leave shows in describe() what its close was waiting for.
        if not any(kv.startswith("debug=") for kv in extra):
            cmd += ["-X", "debug=cgrp"]
        for kv in extra:
            cmd += ["-X", kv]
        self.cmd = [str(c) for c in cmd]
        self.stderr_path = f"{out_path}.stderr"
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=err,
                                         stdin=subprocess.DEVNULL)

    def lines(self):
        try:
            with open(self.out_path) as f:
                return [ln.rstrip("\n") for ln in f if ln.endswith("\n")]
        except FileNotFoundError:
            return []

    def assignment(self):
        """The partitions assigned after the last change, or None before the first one."""
        last = None
        for ln in self.lines():
            if ln.startswith("assignment"):
                rest = ln[len("assignment"):].strip()
                last = sorted(int(p) for p in rest.split(",")) if rest else []
        return last

    def rebalances(self):
        return len(self.rebalance_events())

    def rebalance_events(self):
        """[(kind, protocol, partitions)]: kind assign|revoke|error, protocol EAGER|COOPERATIVE."""
        out = []
        for ln in self.lines():
            if ln.startswith("rebalance "):
                f = ln.split(" ")
                parts = sorted(int(p) for p in f[4].split(",")) if len(f) > 4 and f[4] else []
                out.append((f[2], f[3], parts))
        return out

    def msgs(self):
        """[(partition, offset, id)] in the order consumed."""
        out = []
        for ln in self.lines():
            if ln.startswith("msg "):
                _, part, off, key = ln.split(" ", 3)
                out.append((int(part), int(off), int(key[1:])))
        return out

    def ids(self):
        return {m[2] for m in self.msgs()}

    def stderr(self):
        try:
            with open(self.stderr_path) as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def describe(self):
        return f"{' '.join(self.cmd)}\nreport tail: {self.lines()[-10:]}\nstderr: {self.stderr()}"

    def alive(self):
        return self.proc.poll() is None

    def close(self, timeout=60):
        """SIGTERM: the consumer leaves the group (rd_kafka_consumer_close) and exits 0."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout=60):
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"group_consumer did not exit in time:\n{self.describe()}")
        if rc != 0:
            raise AssertionError(f"group_consumer exited {rc}:\n{self.describe()}")
        return rc

    def kill(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


def wait_assignments(consumers, expected_sizes, timeout=60):
    """Waits until the consumers' assignments have these sizes (sorted) and are disjoint."""
    def done():
        parts = [c.assignment() for c in consumers]
        if any(p is None for p in parts):
            return False
        flat = [p for ps in parts for p in ps]
        if len(flat) != len(set(flat)):
            return False
        return sorted(len(p) for p in parts) == sorted(expected_sizes) and parts
    try:
        return wait_until(done, timeout, f"assignments of sizes {expected_sizes}")
    except AssertionError as e:
        detail = "\n".join(c.describe() for c in consumers)
        raise AssertionError(f"{e}\n{detail}")


class BackgroundProducer:
    """Produces records k0, k1, ... to partition id % partitions at `rate` per second from a
    thread (confluent-kafka, acks=all) until stop(); stop() returns the acknowledged ids."""

    def __init__(self, bootstrap, topic, partitions, rate=200, start=0):
        from confluent_kafka import Producer
        self.topic, self.partitions, self.rate, self.next_id = topic, partitions, rate, start
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
        self.acked, self.errors = set(), []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _on_delivery(self, err, msg):
        if err is not None:
            self.errors.append(err)
        else:
            self.acked.add(int(msg.key()[1:]))

    def _loop(self):
        start = time.monotonic()
        sent = 0
        while not self._stop.is_set():
            due = int((time.monotonic() - start) * self.rate) + 1
            while sent < due:
                i = self.next_id
                self.producer.produce(self.topic, key=f"k{i}".encode(), value=f"v{i}".encode(),
                                      partition=i % self.partitions,
                                      on_delivery=self._on_delivery)
                self.next_id += 1
                sent += 1
            self.producer.poll(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join()
        left = self.producer.flush(60 * SLOW)
        if left or self.errors:
            raise AssertionError(f"producer: {left} undelivered, errors {self.errors[:5]}")
        return set(self.acked)


def gregorctl(broker, *args, check=True, json_out=False, timeout=60):
    """Runs gregorctl against broker; returns the parsed JSON with json_out, else the result."""
    cmd = [gregorctl_path(), "--bootstrap-server", broker.bootstrap]
    if json_out:
        cmd += ["--output", "json"]
    p = run(cmd + list(args), check=check, timeout=timeout)
    return json.loads(p.stdout) if json_out and p.returncode == 0 else p


# ---- raw group requests (non-flexible versions) --------------------------------------------

FIND_COORDINATOR, JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP = 10, 11, 12, 13, 14
OFFSET_COMMIT = 8

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_LOAD_IN_PROGRESS = 14
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
FENCED_INSTANCE_ID = 82
MEMBER_ID_REQUIRED = 79
GROUP_ID_NOT_FOUND = 69


def _bytes(b):
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


def _nullable_string(s):
    return struct.pack(">h", -1) if s is None else _string(s)


def consumer_subscription(topics):
    """ConsumerProtocolSubscription v0 bytes."""
    return (struct.pack(">hi", 0, len(topics)) + b"".join(_string(t) for t in topics)
            + _bytes(None))


class RawGroupClient:
    """One connection that sends group requests and parses the fields the tests look at."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.timeout = timeout
        self.corr = 100

    def close(self):
        self.sock.close()

    def call(self, api, version, body):
        self.send(api, version, body)
        return self.receive()

    def send(self, api, version, body):
        """Sends without waiting: a JoinGroup may be answered only when the rebalance ends."""
        self.corr += 1
        self.sock.sendall(frame(request_header(api, version, self.corr) + body))

    def receive(self):
        r = Reader(read_frame(self.sock, self.timeout))
        if r.take(">i") != self.corr:
            raise ValueError("correlation id mismatch")
        return r

    def find_coordinator(self, group):
        """FindCoordinator v0: error code."""
        r = self.call(FIND_COORDINATOR, 0, _string(group))
        return r.take(">h")

    def wait_coordinator(self, group, timeout=30):
        wait_until(lambda: self.find_coordinator(group) == NONE, timeout,
                   f"coordinator for {group}")

    def join(self, group, member_id="", protocol_type="consumer", protocols=None, version=3,
             session_ms=10000, rebalance_ms=10000, instance_id=None):
        """JoinGroup v0-v5: dict(error, generation, protocol, leader, member_id, members)."""
        self.send_join(group, member_id, protocol_type, protocols, version, session_ms,
                       rebalance_ms, instance_id)
        return self.receive_join(version)

    def send_join(self, group, member_id="", protocol_type="consumer", protocols=None,
                  version=3, session_ms=10000, rebalance_ms=10000, instance_id=None):
        if protocols is None:
            protocols = [("range", consumer_subscription(["t"]))]
        body = _string(group) + struct.pack(">i", session_ms)
        if version >= 1:
            body += struct.pack(">i", rebalance_ms)
        body += _string(member_id)
        if version >= 5:
            body += _nullable_string(instance_id)
        body += _string(protocol_type) + struct.pack(">i", len(protocols))
        body += b"".join(_string(n) + _bytes(m) for n, m in protocols)
        self.send(JOIN_GROUP, version, body)

    def receive_join(self, version=3):
        r = self.receive()
        if version >= 2:
            r.take(">i")  # throttle_time_ms
        out = {"error": r.take(">h"), "generation": r.take(">i"), "protocol": r.string(),
               "leader": r.string(), "member_id": r.string(), "members": []}
        for _ in range(r.take(">i")):
            mid = r.string()
            if version >= 5:
                r.string()
            n = r.take(">i")
            r.pos += max(n, 0)
            out["members"].append(mid)
        return out

    def sync(self, group, generation, member_id, assignments=(), version=1, instance_id=None):
        """SyncGroup v0-v3: (error, assignment bytes)."""
        body = _string(group) + struct.pack(">i", generation) + _string(member_id)
        if version >= 3:
            body += _nullable_string(instance_id)
        body += struct.pack(">i", len(assignments))
        body += b"".join(_string(m) + _bytes(a) for m, a in assignments)
        r = self.call(SYNC_GROUP, version, body)
        if version >= 1:
            r.take(">i")
        err = r.take(">h")
        n = r.take(">i")
        return err, (r.buf[r.pos:r.pos + n] if n >= 0 else None)

    def heartbeat(self, group, generation, member_id, version=1, instance_id=None):
        """Heartbeat v0-v3: error code."""
        body = _string(group) + struct.pack(">i", generation) + _string(member_id)
        if version >= 3:
            body += _nullable_string(instance_id)
        r = self.call(HEARTBEAT, version, body)
        if version >= 1:
            r.take(">i")
        return r.take(">h")

    def offset_commit(self, group, offsets, generation=-1, member_id="", version=2):
        """OffsetCommit v2-v4 (offsets: {(topic, partition): offset}): {(t, p): error}."""
        body = _string(group) + struct.pack(">i", generation) + _string(member_id)
        if version <= 4:
            body += struct.pack(">q", -1)  # retention_time_ms: broker default
        by_topic = {}
        for (t, p), off in offsets.items():
            by_topic.setdefault(t, []).append((p, off))
        body += struct.pack(">i", len(by_topic))
        for t, parts in by_topic.items():
            body += _string(t) + struct.pack(">i", len(parts))
            body += b"".join(struct.pack(">iq", p, off) + _nullable_string("") for p, off in parts)
        r = self.call(OFFSET_COMMIT, version, body)
        if version >= 3:
            r.take(">i")
        out = {}
        for _ in range(r.take(">i")):
            t = r.string()
            for _ in range(r.take(">i")):
                p, err = r.take(">ih")
                out[(t, p)] = err
        return out

    def leave(self, group, members, version=3):
        """LeaveGroup v3 (members: [(member_id, instance_id)]): (error, [member errors])."""
        body = _string(group) + struct.pack(">i", len(members))
        body += b"".join(_string(m) + _nullable_string(i) for m, i in members)
        r = self.call(LEAVE_GROUP, version, body)
        r.take(">i")
        err = r.take(">h")
        errors = []
        for _ in range(r.take(">i")):
            r.string()
            r.string()
            errors.append(r.take(">h"))
        return err, errors
