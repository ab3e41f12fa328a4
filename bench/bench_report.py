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
- **Kernel floor of consume.** After each consume pass `bench/sendfile_floor.c` sends 1 GB of a
  page-cached file with `sendfile(2)` in 1 MiB calls over loopback TCP to a process that
  discards it, no broker involved, and reports the sender's CPU per GB. On loopback the sender
  also pays the receive side's TCP work in its softirqs, so this is what the broker's consume
  CPU cannot go below while it serves fetches with sendfile over loopback.
- **Disk floor of acks=all.** After each acks=all latency run `bench/sync_floor.c` appends
  records of the same size to a file at the same rate for as long, no broker involved, while a
  second thread calls `fdatasync` whenever unsynced records are there (group commit, as the
  broker does). A record's wait, from its `write(2)` to the end of the sync covering it, is
  what acks=all latency cannot go below on this disk.
- **Repeats.** Each configuration runs several times (3 by default) alternating whether the
  broker or the mock goes first; tables quote medians of successful runs. Client and server share
  the same cores, so client CPU competes with the broker; the machines are small and shared,
  so the load average at start and end is recorded with the numbers: latency tails in
  particular measure the machine's scheduling as much as the broker.
- **Fresh pages.** These VMs return freed guest memory to the host (virtio-balloon free page
  reporting), and the first touch of such a page costs a host fault of ~10 us per 4 KiB: any
  writer that needs new page-cache pages is held to ~300-400 MB/s whatever it does, while one
  that reuses pages freed moments ago runs several times faster (touching 3 GiB of fresh memory
  ran at 382 MB/s, 414 MB/s again after a 15 s pause, ~1,000 MB/s straight after a free). The
  mock keeps a few MB per partition and never meets this. So every measured topic is deleted
  after its run, and produce rows that write more than the recently freed memory drop to the
  host's rate: compare ratios within a repeat, not rows across parts.
- **Latency.** A steady rate (20,000 records/s, `linger.ms=0`) paced per record; the first
  second is left out of the percentiles (connection warm-up).
- **Per-request cost.** The same acks=1 producer at 20,000 records/s with a group-less consumer
  reading the partition as it is written, so every record is a produce request and (mostly) a
  fetch of its own; broker CPU over the run as a share of one core and per record. On these VMs
  a system call costs about 1 us and a sleep/wake of a thread several, so this row is mostly
  syscalls and wake-ups: it is how the broker's fixed cost per request is watched.
- **Memory and restart.** Idle RSS (`VmRSS`) of a fresh broker, then with a 1,000-partition
  topic holding one record per partition, after 5 s idle. Restart: write N GB of 1 KiB records
  to 6 partitions, SIGTERM, start again; time until the port accepts and until the high
  watermarks of all partitions report every record (ListOffsets).
- **Reproduce.** `make bench` (full, ~10-15 min on 2 cores), or
  `/usr/bin/python3 bench/run_bench.py --build build --quick`; `--only groups` runs just the
  consumer-group part (rebalance, commits) and `--only transactions` just the idempotence and
  transactions part, and each replaces only its own section of this file; `--big`
  writes the issue's 10 GB before the restart; `--no-broker` measures the mock only; `--help`
  for the rest.
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
    floor = _median(results.get(("sendfile-floor",), {}).get("kernel", []), "cpu_s_per_gb")
    if floor is not None:
        rows.append(("Consume: sendfile over loopback alone, no broker", "(info: kernel floor)",
                     f"{floor:.2f} CPU-s/GB", "n/a"))
    for acks, field, limit in (("1", "lat_p99_ms", 1.0), ("1", "lat_p999_ms", 5.0),
                               ("all", "lat_p99_ms", 3.0)):
        v = _median(results.get(("latency", acks), {}).get("broker", []), field)
        name = "p99" if field == "lat_p99_ms" else "p99.9"
        rows.append((f"Latency acks={acks} {name} at 20k rec/s, linger 0", f"< {limit:g} ms",
                     _fmt(v, ".3f") + (" ms" if v is not None else ""),
                     _status(None if v is None else v < limit)))
    sync_floor = results.get(("sync-floor",), {}).get("disk", [])
    floor_p99 = _median(sync_floor, "p99_ms")
    if floor_p99 is not None:
        rows.append(("acks=all: write + grouped fdatasync alone at 20k rec/s, no broker",
                     "(info: disk floor)",
                     f"p50 {_median(sync_floor, 'p50_ms'):.3f} ms, p99 {floor_p99:.3f} ms", "n/a"))
    tail = [r for r in results.get(("tail",), {}).get("broker", [])
            if r.get("ok") and r.get("server_cpu_s") is not None]
    if tail:
        share = statistics.median(r["server_cpu_s"] / r["tail_seconds"] for r in tail)
        per_record = statistics.median(r["server_cpu_s"] / r["records"] for r in tail)
        rows.append(("Broker CPU, acks=1 producer at 20k rec/s (linger 0) + tailing consumer",
                     "(info: cost per request)",
                     f"{100 * share:.0f}% of a core, {1e6 * per_record:.0f} us per record",
                     "n/a"))
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
    floor = results.get(("sync-floor",), {}).get("disk", [])
    if floor:
        lat.append(("all", "disk alone (sync_floor)", "—",
                    *(_fmt(_median(floor, f), ".3f") for f in
                      ("p50_ms", "p99_ms", "p999_ms", "max_ms")), _runs_note(floor)))
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


GROUPS_METHOD = """\
Consumer groups, on a broker of their own started with `group.initial.rebalance.delay.ms=0`
(`gregor_perf --mode rebalance|commit`, librdkafka high-level consumers, one `rd_kafka_t` and
thread each):

- **Rebalance.** {members} members (`partition.assignment.strategy=range`, `session.timeout.ms`
  10000, `heartbeat.interval.ms` 1000, `auto.offset.reset=latest`) subscribe to a topic of
  {partitions} partitions while a producer (acks=1, so that its fsyncs do not queue ahead of the
  group's own writes) writes one record to every partition every 20 ms. Once
  every member holds partitions, they hold them all and each has received a record, one more
  member subscribes. *Rebalance* is the time from its `subscribe()` until every member has a
  new assignment and has received a record under it. A member's *poll-and-rejoin* is the time
  from its revoke callback to its assign callback; *first / last revoke* and *last assign* are
  measured from the `subscribe()`. The members learn of the rebalance on their next heartbeat,
  so up to one heartbeat interval passes before a member's revoke; *broker wait after last
  revoke* (last assign minus last revoke) is the part the coordinator controls once every
  member is back. Medians of the repeats.
- **Commit.** {groups} groups, one consumer each that never subscribes and commits one explicit
  offset at a time with `rd_kafka_commit(..., async=0)` in a loop for a fixed window after an
  untimed first commit (coordinator lookup). Commits per second count completed OffsetCommit
  requests; latency is per `rd_kafka_commit` call. Broker CPU is per 1,000 commits.
"""


def _groups_block(results, extra):
    """The consumer-group section with its own targets, as a marked block that a groups-only run
    can replace inside an existing report."""
    rb_key = next((k for k in results if k[0] == "rebalance"), ("rebalance", 10, 60))
    cm_key = next((k for k in results if k[0] == "commit"), ("commit", 100))
    rb = results.get(rb_key, {}).get("broker", [])
    cm = results.get(cm_key, {}).get("broker", [])
    reb, rejoin = _median(rb, "rebalance_ms"), _median(rb, "max_rejoin_ms")
    wait = [r["last_assign_ms"] - r["last_revoke_ms"] for r in rb if r.get("ok")]
    wait_med = statistics.median(wait) if wait else None
    targets = [
        (f"Rebalance, {rb_key[1]} members on {rb_key[2]} partitions, one joins",
         "<= 1.2x longest poll-and-rejoin",
         "—" if reb is None or not rejoin else
         f"{reb:.0f} ms vs 1.2 x {rejoin:.0f} ms = {1.2 * rejoin:.0f} ms ({reb / rejoin:.2f}x)",
         _status(None if reb is None or not rejoin else reb <= 1.2 * rejoin)),
        ("Broker wait after the last member rejoined", "no waiting of its own (info)",
         _fmt(wait_med, ".0f") + (" ms" if wait_med is not None else ""), "n/a"),
        (f"OffsetCommit throughput, {cm_key[1]} groups", "reported (no goal in the issue)",
         _fmt(_median(cm, "commits_per_s"), ",.0f") + " commits/s", "n/a"),
    ]
    fields = [("rebalance (join to all consuming)", "rebalance_ms"),
              ("longest poll-and-rejoin (revoke to assign)", "max_rejoin_ms"),
              ("shortest poll-and-rejoin", "min_rejoin_ms"),
              ("new member: subscribe to assign", "new_member_join_ms"),
              ("first revoke after subscribe", "first_revoke_ms"),
              ("last revoke after subscribe", "last_revoke_ms"),
              ("last assign after subscribe", "last_assign_ms"),
              (f"first {rb_key[1]} members: start to all consuming", "stable_ms")]
    rb_rows = [(name, _fmt(_median(rb, f), ".0f"), " / ".join(
        _fmt(r.get(f), ".0f") for r in rb if r.get("ok"))) for name, f in fields]
    rb_rows.append(("ok runs", _runs_note(rb), ""))
    per_k = [r["server_cpu_s"] / r["commits"] * 1000 for r in cm if r.get("ok") and
             r.get("commits") and r.get("server_cpu_s") is not None]
    cm_rows = [(cm_key[1], _fmt(_median(cm, "duration_s"), ".0f") + " s",
                _fmt(_median(cm, "commits_per_s"), ",.0f"), _fmt(_median(cm, "lat_p50_ms"), ".2f"),
                _fmt(_median(cm, "lat_p99_ms"), ".2f"), _fmt(_median(cm, "lat_max_ms"), ".1f"),
                _fmt(statistics.median(per_k) if per_k else None, ".3f"), _runs_note(cm))]
    notes = [n for n in _failures({k: v for k, v in results.items() if k in (rb_key, cm_key)})]
    first, last_a = _median(rb, "first_revoke_ms"), _median(rb, "last_assign_ms")
    if reb is not None and first is not None and last_a is not None and wait_med is not None:
        notes.insert(0, f"Where the rebalance time goes (medians): {first:.0f} ms until the first "
                     f"old member is told (its next heartbeat; `heartbeat.interval.ms` 1000), "
                     f"{last_a - first:.0f} ms from there to the last assignment, of which "
                     f"{wait_med:.0f} ms after the last member's rejoin, then {reb - last_a:.0f} ms "
                     "to the first record under the new assignment (offset lookup and fetch). "
                     "The poll-and-rejoin target leaves out the heartbeat wait and the fetch, so "
                     "it cannot pass at this heartbeat interval even when the coordinator adds "
                     "nothing.")
    if extra.get("groups_error"):
        notes.append(f"groups: {extra['groups_error']}")
    begin, end = _markers("groups")
    parts = [begin, "## Consumer groups (broker only)\n",
             GROUPS_METHOD.format(members=rb_key[1], partitions=rb_key[2], groups=cm_key[1]),
             _run_line(extra, extra["args"].repeats),
             _md_table(("target", "goal", "measured (broker)", "status"), targets),
             "\n### Rebalance (ms, median and each run)\n",
             _md_table(("", "median", "runs"), rb_rows),
             "\n### OffsetCommit (sync, one consumer per group)\n",
             _md_table(("groups", "window", "commits/s", "p50 ms", "p99 ms", "max ms",
                        "broker CPU-s per 1k commits", "ok runs"), cm_rows)]
    if notes:
        parts.append("\n" + "\n".join(f"- {n}" for n in notes))
    parts.append(end)
    return "\n".join(parts) + "\n"


TXN_METHOD = """\
Idempotence and transactions, on a broker of their own (`gregor_perf`, one librdkafka producer,
{size} B records round-robin over {partitions} partitions, `linger.ms=5`, acks=all, so every
run waits for the grouped fdatasync). Per repeat, in an order that rotates between repeats:
*plain* (`enable.idempotence=false`), *idempotent* (`enable.idempotence=true`) and
*transactional* runs (`transactional.id` set; `begin_transaction`, the records,
`commit_transaction`, for {txn_big:,} and for {txn_small} records per transaction), each on a
fresh topic that is deleted after its run (see the note on fresh pages). Commit latency is the time `commit_transaction()` takes (it flushes the
transaction's last records, then EndTxn, which Gregor answers once the commit decision is
durable, as Kafka does; the markers follow, and the next transaction's AddPartitionsToTxn waits
for them). The ratios are medians of the ratios within a repeat.
The same plain, idempotent and {txn_big:,}-record runs are repeated on a broker with
`gregor.acks.all.fsync=false` (acks=all as Kafka means it, no fdatasync before the answer): an
idempotent producer keeps at most 5 requests in flight (Kafka's rule, which librdkafka
enforces), so the time each request waits for its sync round limits it where a plain producer
simply sends more requests meanwhile. Between two transactions the producer's pipeline
empties: the last records' sync, the decision's sync, the client's begin and the next
AddPartitionsToTxn (whose sync follows the markers') leave the broker thread that reads the
connection idle for ~3-4 ms of each ~20-25 ms 10,000-record transaction, and that thread is
the limit while it runs (~65% of its time copies `write(2)` data into the page cache, see
docs/ARCHITECTURE.md). In librdkafka's debug timestamps (`debug=eos,protocol`, 1 ms
resolution) of one such gap, last ProduceResponse to the next transaction's first
ProduceRequest took ~4 ms: EndTxn 0.4 ms and AddPartitionsToTxn 0.3-1.0 ms at the broker;
~1 ms from `begin_transaction` to the client sending AddPartitionsToTxn, and ~1 ms from its
answer to the first ProduceRequest, in the client. That the ratio is the same with
`gregor.acks.all.fsync=false` says the same: the syncs are not what the transactions lose.
"""


def _paired_ratio(num, den):
    """Median over repeats of num/den records/s, pairing runs of the same repeat."""
    vals = [n["records_per_s"] / d["records_per_s"] for n, d in zip(num, den)
            if n.get("ok") and d.get("ok") and d.get("records_per_s")]
    return statistics.median(vals) if vals else None


def _txn_block(results, extra):
    """The idempotence/transactions section with its own targets, as a marked block."""
    plain = results.get(("txn-compare", "plain"), {}).get("broker", [])
    idem = results.get(("txn-compare", "idempotent"), {}).get("broker", [])
    txn_keys = sorted((k for k in results if k[0] == "txn"), key=lambda k: -k[1])
    big = results.get(txn_keys[0], {}).get("broker", []) if txn_keys else []
    idem_ratio, big_ratio = _paired_ratio(idem, plain), _paired_ratio(big, idem)
    size = next((r["record_size"] for r in plain + idem if r.get("ok")), 1024)
    partitions = next((r["partitions"] for r in plain + idem if r.get("ok")), 6)
    big_n = txn_keys[0][1] if txn_keys else 10000
    small_n = txn_keys[-1][1] if len(txn_keys) > 1 else 100
    targets = [
        ("Idempotent vs plain producer, records/s", "within 5% (>= 0.95x)",
         _fmt(idem_ratio, ".3f") + ("x" if idem_ratio is not None else ""),
         _status(None if idem_ratio is None else idem_ratio >= 0.95)),
        (f"{big_n:,}-record transactions vs idempotent, records/s", "within 10% (>= 0.90x)",
         _fmt(big_ratio, ".3f") + ("x" if big_ratio is not None else ""),
         _status(None if big_ratio is None else big_ratio >= 0.90)),
    ]
    nf = {k[1]: v.get("broker", []) for k, v in results.items() if k[0] == "txn-nofsync"}
    nf_idem = _paired_ratio(nf.get("idempotent", []), nf.get("plain", []))
    nf_big = _paired_ratio(nf.get(big_n, []), nf.get("idempotent", []))
    targets += [
        ("Idempotent vs plain, gregor.acks.all.fsync=false", "(info: Kafka's acks=all)",
         _fmt(nf_idem, ".3f") + ("x" if nf_idem is not None else ""), "n/a"),
        (f"{big_n:,}-record transactions vs idempotent, fsync off", "(info)",
         _fmt(nf_big, ".3f") + ("x" if nf_big is not None else ""), "n/a"),
    ]
    rows = []
    for name, runs in (("plain", plain), ("idempotent", idem),
                       ("plain, fsync off", nf.get("plain", [])),
                       ("idempotent, fsync off", nf.get("idempotent", []))):
        rows.append((name, "—", _fmt(_median(runs, "records_per_s"), ",.0f"),
                     _fmt(_median(runs, "mb_per_s")), "—", "—", _fmt(_cpu_per_gb(runs), ".2f"),
                     " / ".join(_fmt(r.get("records_per_s"), ",.0f") for r in runs if r.get("ok")),
                     _runs_note(runs)))
    txn_rows = [(f"transactional, {k[1]:,} per txn", results[k].get("broker", []))
                for k in txn_keys]
    txn_rows.append((f"transactional, {big_n:,} per txn, fsync off", nf.get(big_n, [])))
    for name, runs in txn_rows:
        rows.append((name, _fmt(_median(runs, "transactions"), ".0f"),
                     _fmt(_median(runs, "records_per_s"), ",.0f"), _fmt(_median(runs, "mb_per_s")),
                     _fmt(_median(runs, "commit_p50_ms"), ".2f"),
                     _fmt(_median(runs, "commit_p99_ms"), ".2f"), _fmt(_cpu_per_gb(runs), ".2f"),
                     " / ".join(_fmt(r.get("records_per_s"), ",.0f") for r in runs if r.get("ok")),
                     _runs_note(runs)))
    notes = _failures({k: v for k, v in results.items()
                       if k[0] in ("txn", "txn-compare", "txn-nofsync")})
    if extra.get("txn_error"):
        notes.append(f"transactions: {extra['txn_error']}")
    begin, end = _markers("transactions")
    parts = [begin, "## Idempotence and transactions (broker only)\n",
             TXN_METHOD.format(size=size, partitions=partitions, txn_big=big_n, txn_small=small_n),
             _run_line(extra, extra["args"].repeats * 2 - 1),
             _md_table(("target", "goal", "measured (broker)", "status"), targets), "",
             _md_table(("producer", "transactions", "rec/s", "MB/s", "commit p50 ms",
                        "commit p99 ms", "broker CPU-s/GB", "runs rec/s", "ok runs"), rows)]
    if notes:
        parts.append("\n" + "\n".join(f"- {n}" for n in notes))
    parts.append(end)
    return "\n".join(parts) + "\n"


# The parts that write a block of their own, which a run of only such parts splices into the
# existing report: name -> (builder, result keys that show the part ran, error key).
BLOCKS = {
    "groups": (_groups_block, ("rebalance", "commit"), "groups_error"),
    "transactions": (_txn_block, ("txn", "txn-compare", "txn-nofsync"), "txn_error"),
}


def _run_line(extra, repeats):
    """When, at which commit, how often and on how loaded a machine a block's part ran."""
    load = " / ".join(", ".join(f"{x:.1f}" for x in extra[k]) for k in ("load_start", "load_end"))
    commit = dict(_machine()).get("Commit", "?")
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Run {date} at commit {commit}, {repeats} repeat(s), load average 1/5/15 min "
            f"start / end {load}.\n")


def _markers(name):
    return (f"<!-- {name}: written by bench/run_bench.py ({name} part) -->",
            f"<!-- {name}: end -->")


def _splice_block(old, name, block):
    """Puts a part's block into an existing report: in place of the previous one, else before
    the notes, else at the end."""
    begin, end = _markers(name)
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        return head + block.rstrip("\n") + rest.split(end, 1)[1]
    if "\n## Notes\n" in old:
        head, rest = old.split("\n## Notes\n", 1)
        return head + "\n" + block + "\n## Notes\n" + rest
    return old.rstrip("\n") + "\n\n" + block


def _old_block(old, name):
    begin, end = _markers(name)
    if old and begin in old and end in old:
        return begin + old.split(begin, 1)[1].split(end, 1)[0] + end + "\n"
    return None


def render(results, extra, old=None, blocks_only=False):
    """The report; with blocks_only (and an existing report in `old`) only the blocks of the
    parts that ran are replaced in `old`, so the other sections keep their earlier numbers."""
    blocks = {}
    for name, (build, kinds, error_key) in BLOCKS.items():
        ran = any(k[0] in kinds for k in results) or extra.get(error_key)
        blocks[name] = (build(results, extra), True) if ran else (_old_block(old, name), False)
    if blocks_only and old:
        markdown = old
        for name, (block, ran) in blocks.items():
            if ran:
                markdown = _splice_block(markdown, name, block)
        return SimpleNamespace(markdown=markdown,
                               table="\n".join(b for b, ran in blocks.values() if ran))
    block_kinds = {kind for _, kinds, _ in BLOCKS.values() for kind in kinds}
    a = extra["args"]
    tput, cons, lat = _sections(results)
    targets = _targets(results, extra)
    notes = list(extra["notes"]) + _failures(
        {k: v for k, v in results.items() if k[0] not in block_kinds})
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
    for block, _ in blocks.values():
        if block:
            parts.append("\n" + block)
    if notes:
        parts.append("\n## Notes\n\n" + "\n".join(f"- {n}" for n in notes))
    markdown = "\n".join(parts) + "\n"
    table = "\n".join([
        _md_table(("target", "goal", "measured (broker)", "status"), targets), "",
        _md_table(th, tput), "", _md_table(ch, cons), "", _md_table(lh, lat), "",
        _md_table(("", ""), mem), "", f"load average at start / end: {load}"] +
        [f"note: {n}" for n in notes] + [b for b, _ in blocks.values() if b])
    return SimpleNamespace(markdown=markdown, table=table)
