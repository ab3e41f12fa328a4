"""Turns run_bench.py's raw runs into medians, the targets with pass/fail, a console table and
docs/BENCHMARKS.md (method intro, machine, results)."""
import datetime
import os
import platform
import statistics
import subprocess
from types import SimpleNamespace

INTRO = """\
# Benchmarks

Numbers in this file are written by `make bench` (`bench/run_bench.py`); edit the intro in
`bench/bench_report.py`, not here.

## Method

- **Driver.** `bench/gregor_perf.c` is a producer/consumer perf tool on librdkafka, in the spirit
  of Kafka's `producer-perf-test` / `consumer-perf-test`. Produce: fixed-size records without key,
  round-robin over partitions, `compression.type=none`, librdkafka defaults otherwise
  (`linger.ms=5` for throughput runs). Latency is per record, from the `produce()` call to its
  delivery report (served by a dedicated poll thread). Consume: group-less consumer like kcat
  (`rd_kafka_consume_start_queue` + `rd_kafka_consume_batch_queue` over all partitions from the
  beginning), timed from the first record to the N-th. MB is 2^20 bytes of record values.
- **Reference.** Every configuration also runs against librdkafka's in-memory mock cluster
  (`rdkafka_mock.h`, one broker) in the same invocation. Its server side is one thread inside
  the driver process whose CPU is read from `/proc/self/task/*/stat`. The mock keeps only a few
  MB per partition and returns one batch per partition per fetch, so its consume rows are
  measured in rounds (write a chunk it retains, read it back) and are a weak reference.
- **Broker.** `gregord` is started with `listeners=PLAINTEXT://127.0.0.1:<free port>` and a
  fresh `log.dirs`; ready when the port accepts; stopped with SIGTERM. Topics are created with
  `gregorctl topic create` when it is built, else through the Admin API (CreateTopics) by the
  driver; either way the run waits until every partition has a leader in the metadata. Broker CPU is `utime+stime` of the gregord process
  (`/proc/<pid>/stat`) over each run, divided by the GB (10^9 bytes) of record values moved.
- **Repeats.** Each configuration runs several times (3 by default) alternating whether the
  broker or the mock goes first; tables quote medians of successful runs. Client and server share
  the same cores, so client CPU competes with the broker; the machines are small and shared,
  so the load average at start and end is recorded with the numbers: latency tails in
  particular measure the machine's scheduling as much as the broker.
- **Latency.** A steady rate (20,000 records/s, `linger.ms=0`) paced per record; the first
  second is left out of the percentiles (connection warm-up).
- **Memory and restart.** Idle RSS (`VmRSS`) of a fresh broker, then with a 1,000-partition
  topic holding one record per partition, after 5 s idle. Restart: write N GB of 1 KiB records
  to 6 partitions, SIGTERM, start again; time until the port accepts and until the high
  watermarks of all partitions report every record (ListOffsets).
- **Reproduce.** `make bench` (full, ~10-15 min on 2 cores), or
  `/usr/bin/python3 bench/run_bench.py --build build --quick`; `--big` writes the issue's 10 GB
  before the restart; `--no-broker` measures the mock only; `--help` for the rest.
"""


def _median(runs, field):
    vals = [r[field] for r in runs if r.get("ok") and isinstance(r.get(field), (int, float))
            and r[field] >= 0]
    return statistics.median(vals) if vals else None


def _cpu_per_gb(runs):
    vals = [r["server_cpu_s"] / (r["bytes"] / 1e9) for r in runs
            if r.get("ok") and r.get("server_cpu_s") is not None and r["server_cpu_s"] >= 0
            and r.get("bytes")]
    return statistics.median(vals) if vals else None


def _fmt(v, spec=".1f"):
    return "—" if v is None else format(v, spec)


def _machine():
    model, mem = "unknown", "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                         model)
        with open("/proc/meminfo") as f:
            kb = int(next(ln for ln in f if ln.startswith("MemTotal")).split()[1])
            mem = f"{kb / (1 << 20):.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    except OSError:
        commit = "?"
    return [("CPUs (nproc)", str(os.cpu_count())), ("CPU model", model), ("Memory", mem),
            ("Kernel", platform.release()),
            ("Date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
            ("Commit", commit or "?")]


def _status(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _targets(results, extra):
    rows = []
    ratios, cpus = [], []
    for parts in (1, 6):
        side = results.get(("produce", 1024, "1", parts), {})
        b, m = _median(side.get("broker", []), "records_per_s"), _median(side.get("mock", []),
                                                                         "records_per_s")
        if b is not None and m:
            ratios.append((parts, b / m))
        c = _cpu_per_gb(side.get("broker", []))
        if c is not None:
            cpus.append((parts, c))
    rows.append(("Ingest 1 KiB acks=1 records/s", ">= 0.95x mock",
                 ", ".join(f"{r:.2f}x ({p}p)" for p, r in ratios) or "—",
                 _status(all(r >= 0.95 for _, r in ratios) if ratios else None)))
    rows.append(("Ingest 1 KiB acks=1 broker CPU", "<= 0.5 CPU-s/GB",
                 ", ".join(f"{c:.2f} ({p}p)" for p, c in cpus) or "—",
                 _status(all(c <= 0.5 for _, c in cpus) if cpus else None)))
    ccpu = [(k, _cpu_per_gb(v.get("broker", []))) for k, v in results.items() if k[0] == "consume"]
    ccpu = [(k, c) for k, c in ccpu if c is not None]
    rows.append(("Consume broker CPU", "<= 0.2 CPU-s/GB",
                 ", ".join(f"{c:.2f} ({k[1]} B, {k[2]}p)" for k, c in ccpu) or "—",
                 _status(all(c <= 0.2 for _, c in ccpu) if ccpu else None)))
    for acks, field, limit in (("1", "lat_p99_ms", 1.0), ("1", "lat_p999_ms", 5.0),
                               ("all", "lat_p99_ms", 3.0)):
        v = _median(results.get(("latency", acks), {}).get("broker", []), field)
        name = "p99" if field == "lat_p99_ms" else "p99.9"
        rows.append((f"Latency acks={acks} {name} at 20k rec/s, linger 0", f"< {limit:g} ms",
                     _fmt(v, ".3f") + (" ms" if v is not None else ""),
                     _status(None if v is None else v < limit)))
    rss = extra.get("rss_1000_mb")
    rows.append(("1,000 partitions idle RSS", "< 200 MB", _fmt(rss) + (" MB" if rss else ""),
                 _status(None if rss is None else rss < 200)))
    ready, gb = extra.get("restart_ready_s"), extra.get("restart_gb", 0)
    shown = "—" if ready is None else f"{ready:.2f} s at {gb:g} GB"
    rows.append(("Restart after clean shutdown, 10 GB", "< 2 s", shown,
                 _status(None if ready is None or gb < 10 else ready < 2)))
    return rows


def _md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _runs_note(side):
    bad = [r for r in side if not r.get("ok")]
    return f"{len(side) - len(bad)}/{len(side)}" if side else "0/0"


def _sections(results):
    tput, cons, lat = [], [], []
    for key in sorted((k for k in results if k[0] == "produce"), key=str):
        _, size, acks, parts = key
        b, m = results[key].get("broker", []), results[key].get("mock", [])
        br, mr = _median(b, "records_per_s"), _median(m, "records_per_s")
        tput.append((f"{size} B", acks, parts, _fmt(br, ",.0f"), _fmt(mr, ",.0f"),
                     _fmt(br / mr if br and mr else None, ".2f"), _fmt(_median(b, "mb_per_s")),
                     _fmt(_median(m, "mb_per_s")), _fmt(_cpu_per_gb(b), ".2f"),
                     _fmt(_cpu_per_gb(m), ".2f"), f"{_runs_note(b)} / {_runs_note(m)}"))
    for key in sorted((k for k in results if k[0] == "consume"), key=str):
        _, size, parts = key
        b, m = results[key].get("broker", []), results[key].get("mock", [])
        cons.append((f"{size} B", parts, _fmt(_median(b, "records_per_s"), ",.0f"),
                     _fmt(_median(m, "records_per_s"), ",.0f"), _fmt(_median(b, "mb_per_s")),
                     _fmt(_median(m, "mb_per_s")), _fmt(_cpu_per_gb(b), ".2f"),
                     _fmt(_cpu_per_gb(m), ".2f"), f"{_runs_note(b)} / {_runs_note(m)}"))
    for key in sorted((k for k in results if k[0] == "latency"), key=str):
        for target in ("broker", "mock"):
            runs = results[key].get(target, [])
            lat.append((key[1], target, _fmt(_median(runs, "records_per_s"), ",.0f"),
                        *(_fmt(_median(runs, f), ".3f") for f in
                          ("lat_p50_ms", "lat_p99_ms", "lat_p999_ms", "lat_max_ms")),
                        _runs_note(runs)))
    return tput, cons, lat


def _failures(results):
    notes = []
    for key, sides in sorted(results.items(), key=lambda kv: str(kv[0])):
        for target, runs in sides.items():
            bad = [r for r in runs if not r.get("ok")]
            if bad:
                notes.append(f"{' '.join(map(str, key))} on {target}: {len(bad)} failed run(s), "
                             f"first: {bad[0].get('error') or bad[0]}")
    return notes


def render(results, extra):
    a = extra["args"]
    tput, cons, lat = _sections(results)
    targets = _targets(results, extra)
    notes = list(extra["notes"]) + _failures(results)
    for k in ("rss_error", "restart_error"):
        if extra.get(k):
            notes.append(f"{k.split('_')[0]}: {extra[k]}")
    if extra.get("shutdown_rc") not in (None, 0):
        notes.append(f"gregord exit status after SIGTERM in the restart test: "
                     f"{extra['shutdown_rc']}")
    th = ("records", "acks", "partitions", "broker rec/s", "mock rec/s", "ratio", "broker MB/s",
          "mock MB/s", "broker CPU-s/GB", "mock CPU-s/GB", "ok runs b/m")
    ch = ("records", "partitions", "broker rec/s", "mock rec/s", "broker MB/s", "mock MB/s",
          "broker CPU-s/GB", "mock CPU-s/GB", "ok runs b/m")
    lh = ("acks", "target", "rec/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "ok runs")
    mem = [("Idle RSS, no topics", _fmt(extra.get("rss_empty_mb")) + " MB"),
           ("Idle RSS, 1,000 partitions", _fmt(extra.get("rss_1000_mb")) + " MB"),
           ("Data written before restart", _fmt(extra.get("restart_disk_gb"), ".2f") + " GB on disk"),
           ("Clean shutdown (SIGTERM to exit)", _fmt(extra.get("shutdown_s"), ".2f") + " s"),
           ("Restart: port accepts", _fmt(extra.get("restart_port_s"), ".3f") + " s"),
           ("Restart: all data served", _fmt(extra.get("restart_ready_s"), ".3f") + " s")]
    run_desc = (f"{'quick' if a.quick else 'full'} matrix, {a.repeats} repeat(s), "
                f"latency records {a.lat_size} B on {a.lat_partitions} partition(s), "
                f"restart data {a.restart_gb:g} GB, total {extra['elapsed_s'] / 60:.1f} min")
    load = " / ".join(", ".join(f"{x:.1f}" for x in extra[k]) for k in ("load_start", "load_end"))
    machine = _machine() + [("Run", run_desc), ("Load average 1/5/15 min, start / end", load)]
    parts = [INTRO, "## Machine\n", _md_table(("", ""), machine),
             "\n## Targets\n", _md_table(("target", "goal", "measured (broker)", "status"), targets),
             "\n## Produce throughput (full speed, linger.ms=5)\n", _md_table(th, tput),
             "\n## Consume throughput (reading back the acks=1 topics)\n", _md_table(ch, cons),
             f"\n## Latency at {20000:,} records/s, linger.ms=0\n", _md_table(lh, lat),
             "\n## Memory and restart (broker only)\n", _md_table(("", ""), mem)]
    if notes:
        parts.append("\n## Notes\n\n" + "\n".join(f"- {n}" for n in notes))
    markdown = "\n".join(parts) + "\n"
    table = "\n".join([
        _md_table(("target", "goal", "measured (broker)", "status"), targets), "",
        _md_table(th, tput), "", _md_table(ch, cons), "", _md_table(lh, lat), "",
        _md_table(("", ""), mem), "", f"load average at start / end: {load}"] +
        [f"note: {n}" for n in notes])
    return SimpleNamespace(markdown=markdown, table=table)
