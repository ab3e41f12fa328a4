"""Test harness for the integration suite: runs the real gregord on an ephemeral port with a
temporary data dir, and runs stock client programs against it with deadlines (never fixed sleeps).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("GREGOR_BUILD_DIR", REPO / "build")).resolve()
PYTHON = "/usr/bin/python3"
# GREGOR_ITEST_MOCK=1 swaps gregord for librdkafka's mock cluster, to debug the client side
# of tests while the broker is not buildable. Tests that need the data dir or gregorctl skip.
MOCK = os.environ.get("GREGOR_ITEST_MOCK") == "1"
KEEP_TMP = os.environ.get("GREGOR_KEEP_TMP") == "1"


def _sanitized_build():
    try:
        return "GREGOR_SANITIZE:BOOL=ON" in (BUILD_DIR / "CMakeCache.txt").read_text()
    except OSError:
        return False


# Under AddressSanitizer everything is slower; deadlines scale with this factor.
SLOW = float(os.environ.get("GREGOR_ITEST_SLOWDOWN", "3" if _sanitized_build() else "1"))


def gregord_path():
    return BUILD_DIR / "broker" / "gregord"


def gregorctl_path():
    return BUILD_DIR / "tools" / "gregorctl"


def test_program(name):
    """Path of a C test program built from tests/integration/rdkafka/<name>.c; fails clearly."""
    path = BUILD_DIR / "tests" / "integration" / name
    if not path.exists():
        raise AssertionError(
            f"{path} is not built: cmake --build {BUILD_DIR} --target {name}")
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it returns a truthy value (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout * SLOW
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - the predicate may fail until ready
            last_exc = e
        if time.monotonic() > deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout * SLOW:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])
    except OSError as e:
        return f"<no log: {e}>"


class ClientError(AssertionError):
    pass


def run(cmd, timeout=120, check=True, env=None, input=None, cwd=None):
    """Runs a client program; on failure or timeout raises with its command line and output."""
    cmd = [str(c) for c in cmd]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * SLOW,
                           env=full_env, input=input, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise ClientError(f"timed out after {timeout * SLOW:.0f}s: {' '.join(cmd)}\n"
                          f"stdout: {_txt(e.stdout)[-3000:]}\nstderr: {_txt(e.stderr)[-3000:]}")
    if check and p.returncode != 0:
        raise ClientError(f"exit {p.returncode}: {' '.join(cmd)}\n"
                          f"stdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}")
    return p


def _txt(b):
    if b is None:
        return ""
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


class Broker:
    """One gregord process with its own port and data dir; restartable on both."""

    def __init__(self, overrides=None, name="broker"):
        self.overrides = dict(overrides or {})
        self.tmp = Path(tempfile.mkdtemp(prefix=f"gregor-itest-{name}-"))
        self.data_dir = self.tmp / "data"
        self.data_dir.mkdir()
        self.stderr_path = self.tmp / "gregord.stderr"
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.mock_topics = []  # mock mode only: "topic:partitions" to pre-create
        self.env = {}  # added to gregord's environment

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def command(self):
        cmd = [str(gregord_path()),
               "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
               "--override", f"log.dirs={self.data_dir}"]
        for k, v in self.overrides.items():
            cmd += ["--override", f"{k}={v}"]
        return cmd

    def start(self, timeout=30):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if MOCK:
            return self._start_mock()
        if not gregord_path().exists():
            raise AssertionError(
                f"gregord is not built at {gregord_path()} (set GREGOR_BUILD_DIR or run "
                f"cmake --build {BUILD_DIR} --target gregord)")
        self.starts += 1
        err = open(self.stderr_path, "ab")
        err.write(f"\n===== start #{self.starts}: {' '.join(self.command())}\n".encode())
        err.flush()
        self.proc = subprocess.Popen(self.command(), stdout=err, stderr=err,
                                     stdin=subprocess.DEVNULL, env={**os.environ, **self.env})
        err.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"gregord exited with {self.proc.returncode} during start-up:\n"
                    f"{self.stderr_tail()}")
            return port_open(self.port)
        try:
            wait_until(ready, timeout, f"gregord to accept connections on {self.port}")
        except AssertionError as e:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise AssertionError(f"{e}\n--- gregord stderr tail ---\n{self.stderr_tail()}")
        return self

    def _start_mock(self):
        prog = test_program("mock_cluster")
        err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([str(prog)] + self.mock_topics, stdout=subprocess.PIPE,
                                     stderr=err, text=True)
        err.close()
        line = self.proc.stdout.readline().strip()
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends sig and waits for exit; returns the exit code (negative: killed by a signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"gregord did not exit within {timeout * SLOW:.0f}s of signal {sig}; killed\n"
                    f"{self.stderr_tail()}")
        return self.proc.returncode

    def kill(self):
        """SIGKILL: a crash, with no chance to flush anything."""
        return self.stop(signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM, timeout=30):
        rc = self.stop(sig)
        self.start(timeout)
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stderr_tail(self, lines=60):
        return tail(self.stderr_path, lines)

    def partition_dir(self, topic, partition):
        return self.data_dir / f"{topic}-{partition}"

    def segment_files(self, topic, partition, ext=".log"):
        d = self.partition_dir(topic, partition)
        return sorted(p for p in d.iterdir() if p.name.endswith(ext)) if d.exists() else []

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if not KEEP_TMP:
            shutil.rmtree(self.tmp, ignore_errors=True)


class BrokerTestCase(unittest.TestCase):
    """One broker per test class; its stderr tail is printed when a test fails."""

    broker_overrides = {}
    mock_topics = []
    needs_real_broker = False  # data dir, gregorctl or Gregor-specific behaviour

    @classmethod
    def setUpClass(cls):
        if MOCK and cls.needs_real_broker:
            raise unittest.SkipTest("needs the real gregord (GREGOR_ITEST_MOCK=1)")
        cls.broker = Broker(cls.broker_overrides, name=cls.__name__)
        cls.broker.mock_topics = list(cls.mock_topics)
        try:
            cls.broker.env = cls.broker_env(cls.broker)
            cls.broker.start()
        except BaseException:
            cls.broker.cleanup()
            raise

    @classmethod
    def broker_env(cls, broker):
        """Variables added to gregord's environment; `broker` has its data dir already."""
        return {}

    @classmethod
    def tearDownClass(cls):
        broker = cls.broker
        try:
            if broker.alive() and not MOCK:
                rc = broker.stop(signal.SIGTERM)
                if rc != 0:
                    raise AssertionError(f"gregord exited {rc} on SIGTERM, expected 0\n"
                                         f"{broker.stderr_tail()}")
        finally:
            broker.cleanup()

    def tearDown(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is not None and not getattr(outcome, "success", True):
            sys.stderr.write(f"\n--- gregord stderr tail ({self.id()}) ---\n"
                             f"{self.broker.stderr_tail()}\n--- end ---\n")

    # ---- helpers --------------------------------------------------------------------------

    def assert_broker_alive(self):
        self.assertTrue(self.broker.alive(),
                        f"gregord died (exit {self.broker.proc.returncode}):\n"
                        f"{self.broker.stderr_tail()}")

    def rdkafka(self, mode, topic, timeout=120, extra=(), **opts):
        """Runs rdkafka_roundtrip MODE against this broker; opts become --key value flags."""
        cmd = [test_program("rdkafka_roundtrip"), mode, "--bootstrap", self.broker.bootstrap,
               "--topic", topic] + cli_flags(opts)
        for kv in extra:
            cmd += ["-X", kv]
        return run(cmd, timeout=timeout)

    def create_topic(self, name, partitions=1, config=None, timeout=30):
        """Creates a topic with confluent-kafka's AdminClient and waits for its leaders."""
        from confluent_kafka.admin import AdminClient, NewTopic
        if MOCK:
            return
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        fut = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})],
                                  operation_timeout=timeout)[name]
        fut.result(timeout * SLOW)
        self.wait_for_topic(name, partitions, admin=admin)

    def wait_for_topic(self, name, partitions, admin=None, timeout=30):
        from confluent_kafka.admin import AdminClient
        admin = admin or AdminClient({"bootstrap.servers": self.broker.bootstrap})

        def visible():
            md = admin.list_topics(name, timeout=5)
            t = md.topics.get(name)
            return (t is not None and t.error is None and len(t.partitions) == partitions
                    and all(p.leader >= 0 for p in t.partitions.values()))
        wait_until(visible, timeout, f"topic {name} with {partitions} partitions in metadata")


def cli_flags(opts):
    """Keyword options as command-line flags: foo_bar=v -> --foo-bar v, True -> --foo-bar,
    None/False -> left out."""
    out = []
    for k, v in opts.items():
        flag = "--" + k.replace("_", "-")
        if v is True:
            out.append(flag)
        elif v is not None and v is not False:
            out += [flag, v]
    return out


def batch_headers(log_path):
    """Yields (base_offset, batch_length, magic, attributes, last_offset_delta) for each
    complete record batch v2 in a segment file, stopping at a torn or zero tail."""
    import struct
    with open(log_path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 61 <= len(data):
        base_offset, length, _epoch, magic = struct.unpack_from(">qiib", data, pos)
        if length <= 0 or pos + 12 + length > len(data):
            break
        attributes, last_delta = struct.unpack_from(">hi", data, pos + 21)
        yield base_offset, length, magic, attributes, last_delta
        pos += 12 + length
