#!/usr/bin/python3
"""`make bench`: runs gregor_perf against the real gregord and librdkafka's mock cluster, each
configuration repeated and interleaved, then prints a table and writes docs/BENCHMARKS.md."""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_report  # noqa: E402  (lives next to this script)

LAT_RATE = 20000
PARTS = ["throughput", "latency", "rss", "restart", "groups", "transactions"]
# Parts on brokers of their own, each writing its own block of the report.
BLOCK_PARTS = ["groups", "transactions"]
REBALANCE_MEMBERS, REBALANCE_PARTITIONS = 10, 60
COMMIT_GROUPS, COMMIT_PARTITIONS = 100, 10
TXN_SIZE, TXN_PARTITIONS, TXN_BIG, TXN_SMALL = 1024, 6, 10000, 100


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default="build", help="CMake build directory (relative to repo)")
    p.add_argument("--quick", action="store_true", help="smaller matrix, one repeat")
    p.add_argument("--repeats", type=int, help="repeats per configuration (default 3, quick 1)")
    p.add_argument("--restart-gb", type=float, help="data written before the restart test "
                   "(default 1, quick 0.25)")
    p.add_argument("--big", action="store_true", help="restart test with the issue's 10 GB")
    p.add_argument("--lat-size", type=int, default=1024, help="record size of latency runs")
    p.add_argument("--lat-partitions", type=int, default=1, help="partitions of latency runs")
    p.add_argument("--no-broker", action="store_true", help="mock cluster only")
    p.add_argument("--broker", help="gregord binary (default <build>/broker/gregord)")
    p.add_argument("--perf", help="gregor_perf binary (default <build>/bench/gregor_perf)")
    p.add_argument("--skip", action="append", default=[], choices=PARTS, help="leave out a part")
    p.add_argument("--only", action="append", default=[], choices=PARTS,
                   help="run only this part (repeatable); with only `groups` and/or "
                   "`transactions` the other sections of the existing report are kept as they are")
    p.add_argument("--out", default=os.path.join(REPO, "docs", "BENCHMARKS.md"))
    p.add_argument("--no-write", action="store_true", help="print only; keep docs untouched")
    p.add_argument("--json", help="also dump every raw run to this file")
    a = p.parse_args()
    a.build = os.path.join(REPO, a.build) if not os.path.isabs(a.build) else a.build
    a.repeats = a.repeats or (1 if a.quick else 3)
    if a.only:
        a.skip = [part for part in PARTS if part not in a.only]
    a.restart_gb = 10.0 if a.big else (a.restart_gb or (0.25 if a.quick else 1.0))
    return a


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    """One gregord process on a fresh port, with its data in log_dir."""

    def __init__(self, binary, log_dir, work_dir, overrides=()):
        self.binary, self.log_dir, self.work_dir = binary, log_dir, work_dir
        self.overrides = list(overrides)
        self.proc, self.port = None, None

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=60.0):
        """Starts the broker (on the same port as before when restarted) and returns seconds
        until its port accepts; raises on failure."""
        self.port = self.port or free_port()
        log = open(os.path.join(self.work_dir, f"gregord-{self.port}.log"), "a")
        cmd = [self.binary, "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
               "--override", f"log.dirs={self.log_dir}"]
        for kv in self.overrides:
            cmd += ["--override", kv]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gregord exited with {self.proc.returncode}: {self.log_tail()}")
            if port_open(self.port):
                return time.monotonic() - t0
            time.sleep(0.005)
        self.kill()
        raise RuntimeError(f"gregord did not accept on {self.port} within {timeout}s")

    def log_tail(self):
        try:
            with open(os.path.join(self.work_dir, f"gregord-{self.port}.log")) as f:
                return " | ".join(f.read().strip().splitlines()[-5:])
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self):
        """CPU of the live threads from schedstat (ns) when the kernel has it: stat's 10 ms
        ticks are too coarse for runs of a few hundred MB. Falls back to utime+stime."""
        total, tasks = 0, f"/proc/{self.proc.pid}/task"
        try:
            for tid in os.listdir(tasks):
                try:
                    with open(f"{tasks}/{tid}/schedstat") as f:
                        total += int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
            if total > 0:
                return total / 1e9
        except OSError:
            pass
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self, timeout=60.0):
        """SIGTERM and wait; returns (seconds, exit code), SIGKILL after the timeout."""
        if not self.alive():
            return 0.0, self.proc.returncode if self.proc else None
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = "killed"
        return time.monotonic() - t0, rc

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


def last_result(stdout):
    """The last JSON result line a bench tool printed, or None if it printed none."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else None


class Runner:
    def __init__(self, args, perf):
        self.args, self.perf = args, perf
        self.raw = []

    def perf_run(self, argv, timeout):
        cmd = [self.perf] + [str(x) for x in argv] + ["--timeout-s", str(int(timeout))]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "driver timed out"}
        r = last_result(out.stdout)
        if r is None:
            return {"ok": False, "error": f"no result (exit {out.returncode}): "
                    f"{out.stderr.strip()[-300:]}"}
        r["argv"] = " ".join(cmd[1:])
        return r

    def on_broker(self, broker, argv, timeout=300):
        if broker is None or not broker.alive():
            return {"ok": False, "error": "broker not running"}
        cpu0 = broker.cpu_seconds()
        r = self.perf_run(argv + ["--bootstrap", broker.bootstrap], timeout)
        if broker.alive():
            r["server_cpu_s"] = broker.cpu_seconds() - cpu0
        r["target"] = "broker"
        self.raw.append(r)
        return r

    def on_mock(self, argv, timeout=300):
        r = self.perf_run(argv + ["--mock"], timeout)
        r["server_cpu_s"] = r.get("mock_cpu_s")
        r["target"] = "mock"
        self.raw.append(r)
        return r

    def floor(self, tool_name, argv, timeout, target):
        """Runs one of the no-broker floor tools built beside gregor_perf (bench/*_floor.c) in
        the temp dir's file system; its JSON line, labelled with `target`."""
        tool = os.path.join(os.path.dirname(self.perf), tool_name)
        try:
            out = subprocess.run([tool, tempfile.gettempdir()] + [str(x) for x in argv],
                                 capture_output=True, text=True, timeout=timeout)
            r = last_result(out.stdout) or {"ok": False, "error": f"{tool_name}: no result "
                                            f"(exit {out.returncode})"}
        except (OSError, subprocess.TimeoutExpired, ValueError) as e:
            r = {"ok": False, "error": f"{tool_name}: {e}"}
        r["target"] = target
        self.raw.append(r)
        return r

    def sendfile_floor(self):
        """sendfile over loopback with no broker (bench/sendfile_floor.c), 1 GB: the kernel's
        share that no broker can save, measured right next to each consume pass."""
        return self.floor("sendfile_floor", [256, 4], 120, "kernel")

    def sync_floor(self, rate, size, seconds):
        """Writes and grouped fdatasyncs at the latency rate with no broker
        (bench/sync_floor.c): the disk's share of acks=all latency, measured right next to
        each acks=all latency run."""
        return self.floor("sync_floor", [rate, size, seconds], seconds + 60, "disk")

    def delete_topic(self, broker, topic):
        """Drops a measured topic so that the next run starts from the same page-cache state:
        on these VMs a page the kernel has not used recently costs a host fault (~10 us) on
        first touch, so a run that must allocate fresh pages writes at ~300 MB/s while one that
        reuses just-freed pages runs several times faster (docs/BENCHMARKS.md, notes)."""
        ctl = os.path.join(self.args.build, "tools", "gregorctl")
        if broker is not None and broker.alive() and os.access(ctl, os.X_OK):
            subprocess.run([ctl, "--bootstrap-server", broker.bootstrap, "topic", "delete", topic],
                           capture_output=True, timeout=120)

    def create_topic(self, broker, topic, partitions):
        """gregorctl when it is built, else (or when it fails) the Admin API from the driver."""
        base = ["--bootstrap", broker.bootstrap, "--topic", topic, "--partitions", partitions]
        ctl = os.path.join(self.args.build, "tools", "gregorctl")
        if os.access(ctl, os.X_OK):
            try:
                done = subprocess.run([ctl, "--bootstrap-server", broker.bootstrap, "topic",
                                       "create", topic, "--partitions", str(partitions)],
                                      capture_output=True, timeout=120)
                if done.returncode == 0:
                    return self.perf_run(["--mode", "wait-topic"] + base, 60)
            except subprocess.TimeoutExpired:
                pass
        return self.perf_run(["--mode", "create-topic"] + base, 60)


def paired(runner, broker, rep, topic, argv, results, key, create_partitions=None):
    """Runs one configuration on the broker and on the mock, alternating which goes first."""
    def broker_side():
        if broker is None:
            return
        if create_partitions:
            made = runner.create_topic(broker, topic, create_partitions)
            if not made.get("ok"):
                results.setdefault(key, {}).setdefault("broker", []).append(made)
                return
        results.setdefault(key, {}).setdefault("broker", []).append(
            runner.on_broker(broker, argv + ["--topic", topic]))

    def mock_side():
        results.setdefault(key, {}).setdefault("mock", []).append(
            runner.on_mock(argv + ["--topic", topic]))

    for side in ((broker_side, mock_side) if rep % 2 == 0 else (mock_side, broker_side)):
        side()


def throughput_and_consume(runner, broker, a, results):
    sizes = {100: 200000 if a.quick else 1000000, 1024: 60000 if a.quick else 300000}
    for size, records in sizes.items():
        for acks in ("1", "all"):
            for parts in (1, 6):
                for rep in range(a.repeats):
                    topic = f"tp-{size}-{acks}-{parts}-r{rep}"
                    base = ["--records", records, "--record-size", size, "--partitions", parts]
                    key = ("produce", size, acks, parts)
                    progress(f"produce {size} B acks={acks} partitions={parts} repeat {rep + 1}")
                    paired(runner, broker, rep, topic, ["--mode", "produce", "--acks", acks] + base,
                           results, key, create_partitions=parts)
                    if acks == "1":  # read back what was just written
                        progress(f"consume {size} B partitions={parts} repeat {rep + 1}")
                        paired(runner, broker, rep, topic, ["--mode", "consume"] + base, results,
                               ("consume", size, parts))
                        results.setdefault(("sendfile-floor",), {}).setdefault(
                            "kernel", []).append(runner.sendfile_floor())
                    runner.delete_topic(broker, topic)


def latency(runner, broker, a, results):
    seconds = 4 if a.quick else 10
    for acks in ("1", "all"):
        for rep in range(a.repeats):
            topic = f"lat-{acks}-r{rep}"
            progress(f"latency acks={acks} at {LAT_RATE} rec/s repeat {rep + 1}")
            argv = ["--mode", "produce", "--acks", acks, "--records", LAT_RATE * (seconds + 1),
                    "--warmup-records", LAT_RATE, "--rate", LAT_RATE, "--linger-ms", 0,
                    "--record-size", a.lat_size, "--partitions", a.lat_partitions]
            paired(runner, broker, rep, topic, argv, results, ("latency", acks),
                   create_partitions=a.lat_partitions)
            if acks == "all":
                results.setdefault(("sync-floor",), {}).setdefault("disk", []).append(
                    runner.sync_floor(LAT_RATE, a.lat_size, seconds + 1))


def tailing(runner, broker, a, results):
    """A producer at the latency rate (acks=1, linger 0: one record per request) with a consumer
    reading as it goes: every record costs the broker a produce and a fetch of its own, so this
    measures the broker's cost per request rather than per byte. Broker only (the mock cannot
    serve a second process)."""
    seconds = 4 if a.quick else 10
    records = LAT_RATE * seconds
    for rep in range(a.repeats):
        topic = f"tail-r{rep}"
        progress(f"tailing consumer at {LAT_RATE} rec/s repeat {rep + 1}")
        made = runner.create_topic(broker, topic, 1)
        if not made.get("ok"):
            results.setdefault(("tail",), {}).setdefault("broker", []).append(made)
            continue
        base = ["--records", records, "--record-size", a.lat_size, "--partitions", 1,
                "--topic", topic, "--bootstrap", broker.bootstrap, "--timeout-s", 120]
        consumer = subprocess.Popen([runner.perf, "--mode", "consume"] + [str(x) for x in base],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        r = runner.on_broker(broker, ["--mode", "produce", "--acks", "1", "--rate", LAT_RATE,
                                      "--linger-ms", 0, "--records", records, "--record-size",
                                      a.lat_size, "--partitions", 1, "--topic", topic])
        try:
            out, _ = consumer.communicate(timeout=150)
            consumed = last_result(out) or {"ok": False}
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumed = {"ok": False}
        # The broker's CPU was read over the producer's run, during which the consumer read.
        r["ok"] = bool(r.get("ok")) and bool(consumed.get("ok"))
        r["tail_seconds"] = records / LAT_RATE
        results.setdefault(("tail",), {}).setdefault("broker", []).append(r)
        runner.delete_topic(broker, topic)


def idle_rss(runner, broker_bin, work, a, extra):
    data = tempfile.mkdtemp(prefix="rss-", dir=work)
    b = Broker(broker_bin, data, work)
    try:
        b.start()
        time.sleep(2)
        extra["rss_empty_mb"] = b.rss_mb()
        progress("1,000 partitions: create, write one record to each, idle")
        made = runner.create_topic(b, "rss-1000", 1000)
        if not made.get("ok"):
            extra["rss_error"] = made.get("error") or "topic creation failed"
            return
        r = runner.on_broker(b, ["--mode", "produce", "--topic", "rss-1000", "--records", 1000,
                                 "--partitions", 1000, "--record-size", 100])
        if not r.get("ok"):
            extra["rss_error"] = r.get("error") or "produce failed"
        time.sleep(5)
        extra["rss_1000_mb"] = b.rss_mb()
    except (RuntimeError, OSError) as e:
        extra["rss_error"] = str(e)
    finally:
        b.stop()
        shutil.rmtree(data, ignore_errors=True)


def restart(runner, broker_bin, work, a, extra):
    data = tempfile.mkdtemp(prefix="restart-", dir=work)
    b = Broker(broker_bin, data, work)
    size, parts = 1024, 6
    records = int(a.restart_gb * (1 << 30) / size)
    extra["restart_gb"] = a.restart_gb
    try:
        b.start()
        made = runner.create_topic(b, "restart", parts)
        if not made.get("ok"):
            extra["restart_error"] = made.get("error") or "topic creation failed"
            return
        progress(f"restart: writing {a.restart_gb:g} GB")
        r = runner.on_broker(b, ["--mode", "produce", "--topic", "restart", "--records", records,
                                 "--record-size", size, "--partitions", parts],
                             timeout=max(300, 200 * a.restart_gb))
        if not r.get("ok"):
            extra["restart_error"] = f"writing failed: {r.get('error')}"
            return
        extra["restart_disk_gb"] = du_bytes(data) / 1e9
        extra["shutdown_s"], extra["shutdown_rc"] = b.stop(timeout=120)
        progress("restart: starting again")
        t0 = time.monotonic()
        extra["restart_port_s"] = b.start(timeout=300)
        o = runner.perf_run(["--mode", "offsets", "--bootstrap", b.bootstrap, "--topic", "restart",
                             "--records", records], 120)
        if o.get("ok"):
            extra["restart_ready_s"] = time.monotonic() - t0
        else:
            extra["restart_error"] = f"data not served after restart: {o}"
    except (RuntimeError, OSError) as e:
        extra["restart_error"] = str(e)
    finally:
        b.stop()
        shutil.rmtree(data, ignore_errors=True)


def groups(runner, broker_bin, work, a, results, extra):
    """Consumer-group runs on their own broker, with no initial rebalance delay so that only the
    clients' configured timings (heartbeat interval, poll loop) remain."""
    data = tempfile.mkdtemp(prefix="groups-", dir=work)
    b = Broker(broker_bin, data, work, ["group.initial.rebalance.delay.ms=0"])
    try:
        b.start()
        made = runner.create_topic(b, "rebalance", REBALANCE_PARTITIONS)
        key = ("rebalance", REBALANCE_MEMBERS, REBALANCE_PARTITIONS)
        if not made.get("ok"):
            results.setdefault(key, {}).setdefault("broker", []).append(made)
        else:
            for rep in range(a.repeats):
                progress(f"rebalance: {REBALANCE_MEMBERS} members on {REBALANCE_PARTITIONS} "
                         f"partitions, one more joins, repeat {rep + 1}")
                results.setdefault(key, {}).setdefault("broker", []).append(runner.on_broker(
                    b, ["--mode", "rebalance", "--topic", "rebalance", "--partitions",
                        REBALANCE_PARTITIONS, "--members", REBALANCE_MEMBERS], timeout=180))
        made = runner.create_topic(b, "commit", COMMIT_PARTITIONS)
        key = ("commit", COMMIT_GROUPS)
        seconds = 5 if a.quick else 10
        if not made.get("ok"):
            results.setdefault(key, {}).setdefault("broker", []).append(made)
        else:
            for rep in range(a.repeats):
                progress(f"commit: {COMMIT_GROUPS} groups for {seconds} s, repeat {rep + 1}")
                results.setdefault(key, {}).setdefault("broker", []).append(runner.on_broker(
                    b, ["--mode", "commit", "--topic", "commit", "--partitions",
                        COMMIT_PARTITIONS, "--groups", COMMIT_GROUPS, "--duration-s", seconds],
                    timeout=180))
    except (RuntimeError, OSError) as e:
        extra["groups_error"] = str(e)
    finally:
        _, rc = b.stop()
        if rc not in (0, None):
            extra["notes"].append(f"gregord exited with {rc} after SIGTERM (groups broker); "
                                  f"log: {b.log_tail()}")
        shutil.rmtree(data, ignore_errors=True)


def rotated_runs(runner, b, kinds, repeats, label, results):
    """Each repeat runs every kind once, in an order that rotates, so that drift of the
    machine's speed spreads over all of them; each run on a fresh topic, deleted after."""
    for rep in range(repeats):
        order = kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]
        for key, argv in order:
            topic = f"{label}-{key[1]}-r{rep}"
            made = runner.create_topic(b, topic, TXN_PARTITIONS)
            progress(f"{label}: {' '.join(map(str, key))} repeat {rep + 1}")
            run = made if not made.get("ok") else runner.on_broker(b, argv + ["--topic", topic])
            results.setdefault(key, {}).setdefault("broker", []).append(run)
            runner.delete_topic(b, topic)


def transactions(runner, broker_bin, work, a, results, extra):
    """Plain vs idempotent vs transactional producers on a broker of their own; then plain vs
    idempotent vs 10,000-record transactions again on a broker with gregor.acks.all.fsync=false
    (Kafka's acks=all), which shows what the grouped fdatasync costs each of them."""
    records = 60000 if a.quick else 200000
    base = ["--records", records, "--record-size", TXN_SIZE, "--partitions", TXN_PARTITIONS]
    plain = ["--mode", "produce", "--acks", "all", "--config", "enable.idempotence=false"] + base
    idem = ["--mode", "produce", "--acks", "all", "--config", "enable.idempotence=true"] + base
    big = ["--mode", "txn", "--txn-records", TXN_BIG] + base
    # Small transactions commit often: fewer records keep the run short.
    small = ["--mode", "txn", "--txn-records", TXN_SMALL, "--records", records // 10,
             "--record-size", TXN_SIZE, "--partitions", TXN_PARTITIONS]
    setups = [
        ("txn", [], [(("txn-compare", "plain"), plain), (("txn-compare", "idempotent"), idem),
                     (("txn", TXN_BIG), big), (("txn", TXN_SMALL), small)]),
        ("txn-nofsync", ["gregor.acks.all.fsync=false"],
         [(("txn-nofsync", "plain"), plain), (("txn-nofsync", "idempotent"), idem),
          (("txn-nofsync", TXN_BIG), big)]),
    ]
    for label, overrides, kinds in setups:
        data = tempfile.mkdtemp(prefix=f"{label}-", dir=work)
        b = Broker(broker_bin, data, work, overrides)
        try:
            b.start()
            # Short runs: more repeats than the rest of the matrix, for stabler ratios.
            rotated_runs(runner, b, kinds, a.repeats * 2 - 1, label, results)
        except (RuntimeError, OSError) as e:
            extra["txn_error"] = str(e)
        finally:
            _, rc = b.stop()
            if rc not in (0, None):
                extra["notes"].append(f"gregord exited with {rc} after SIGTERM ({label} "
                                      f"broker); log: {b.log_tail()}")
            shutil.rmtree(data, ignore_errors=True)


def du_bytes(path):
    """Allocated bytes like du: preallocated or sparse files count only what they hold."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


START = time.monotonic()


def progress(msg):
    print(f"[{time.monotonic() - START:6.1f}s] {msg}", file=sys.stderr, flush=True)


def main():
    a = parse_args()
    perf = a.perf or os.path.join(a.build, "bench", "gregor_perf")
    if not os.access(perf, os.X_OK):
        sys.exit(f"{perf} is missing: build the gregor_perf target first "
                 f"(cmake --build {a.build} --target gregor_perf)")
    broker_bin = a.broker or os.path.join(a.build, "broker", "gregord")
    work = tempfile.mkdtemp(prefix="gregor-bench-")
    runner = Runner(a, perf)
    results, extra = {}, {"notes": [], "load_start": os.getloadavg()}
    broker = None
    blocks_only = set(a.skip) >= set(PARTS) - set(BLOCK_PARTS)
    if a.no_broker:
        extra["notes"].append("Broker rows skipped: run with --no-broker.")
    elif not os.access(broker_bin, os.X_OK):
        extra["notes"].append(f"Broker rows skipped: {os.path.relpath(broker_bin, REPO)} does not "
                              "exist yet; only the mock reference was measured.")
    elif not blocks_only:  # the block parts start brokers of their own
        broker = Broker(broker_bin, tempfile.mkdtemp(prefix="matrix-", dir=work), work)
        try:
            broker.start()
        except (RuntimeError, OSError) as e:
            extra["notes"].append(f"Broker rows skipped: gregord failed to start ({e}).")
            broker = None
    try:
        if "throughput" not in a.skip:
            throughput_and_consume(runner, broker, a, results)
        if "latency" not in a.skip:
            latency(runner, broker, a, results)
            if broker is not None:
                tailing(runner, broker, a, results)
        if broker is not None:
            _, rc = broker.stop()
            if rc != 0:
                extra["notes"].append(f"gregord exited with {rc} after SIGTERM (matrix broker); "
                                      f"log: {broker.log_tail()}")
            broker = None
            if "rss" not in a.skip:
                idle_rss(runner, broker_bin, work, a, extra)
            if "restart" not in a.skip:
                restart(runner, broker_bin, work, a, extra)
        if "groups" not in a.skip and not a.no_broker and os.access(broker_bin, os.X_OK):
            groups(runner, broker_bin, work, a, results, extra)
        if "transactions" not in a.skip and not a.no_broker and os.access(broker_bin, os.X_OK):
            transactions(runner, broker_bin, work, a, results, extra)
    finally:
        if broker is not None:
            broker.kill()
        shutil.rmtree(work, ignore_errors=True)
    extra["elapsed_s"] = time.monotonic() - START
    extra["load_end"] = os.getloadavg()
    extra["args"] = a
    old = None
    if os.path.exists(a.out):
        with open(a.out) as f:
            old = f.read()
    report = bench_report.render(results, extra, old=old, blocks_only=blocks_only)
    print(report.table)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runner.raw, f, indent=1)
    if not a.no_write:
        with open(a.out, "w") as f:
            f.write(report.markdown)
        print(f"wrote {os.path.relpath(a.out, REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
