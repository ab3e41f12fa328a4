"""The consume-transform-produce application of test_eos_loop.py, run as its own process so the
test can SIGKILL it anywhere: a read_committed group consumer of --input, a transactional
producer (--txn-id) to --output. Each transaction takes a batch of input records, writes
("out-" + value, same key, same partition) for each, sleeps a little (the window in which a
kill lands mid-transaction), sends the consumer's next offsets with send_offsets_to_transaction
and commits. It exits 0 once the group's committed offsets reach the input's end on every
partition. Progress goes to --log, one line per event after its wall-clock time, each line
written at once:

    start <pid>                      process up, producer fenced its predecessor (init done)
    assigned <partitions>            after each assignment
    begin <n> <records>              before begin_transaction of transaction n
    commit <n>                       after commit_transaction returned
    abort <n> <error>                an abortable error: aborted, consumer rewound
    done                             everything consumed and committed
"""
import argparse
import os
import random
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


class Log:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def __call__(self, line):
        # One write per line, so a kill never tears one; wall-clock time first.
        os.write(self.fd, f"{time.time():.3f} {line}\n".encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--txn-id", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-batch", type=int, default=40)
    ap.add_argument("--txn-sleep-ms", type=int, default=20, help="mean sleep inside a txn")
    ap.add_argument("--session-timeout-ms", type=int, default=1500)
    ap.add_argument("--timeout", type=float, default=60, help="API call timeout, seconds")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    log = Log(args.log)

    producer = Producer({"bootstrap.servers": args.bootstrap, "transactional.id": args.txn_id,
                         "linger.ms": 2})
    producer.list_topics(args.output, timeout=args.timeout)  # metadata before the first produce
    # Fences the previous incarnation and aborts (or completes) its open transaction before
    # this one reads the group's offsets.
    producer.init_transactions(args.timeout)
    log(f"start {os.getpid()}")

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap, "group.id": args.group,
        "isolation.level": "read_committed", "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "enable.partition.eof": False,
        "session.timeout.ms": args.session_timeout_ms,
        "heartbeat.interval.ms": max(100, args.session_timeout_ms // 5),
    })
    md = consumer.list_topics(args.input, timeout=args.timeout).topics[args.input]
    parts = sorted(md.partitions)
    end = {}
    for p in parts:  # the input is loaded before the first run and never grows
        end[p] = consumer.get_watermark_offsets(TopicPartition(args.input, p),
                                                timeout=args.timeout)[1]

    def on_assign(c, tps):
        log("assigned " + ",".join(str(tp.partition) for tp in tps))
    consumer.subscribe([args.input], on_assign=on_assign)

    def finished():
        assigned = consumer.assignment()
        if sorted(tp.partition for tp in assigned) != parts:
            return False
        committed = consumer.committed(assigned, timeout=args.timeout)
        return all(tp.offset == end[tp.partition] for tp in committed)

    n = 0
    while True:
        msgs = consumer.consume(rng.randint(1, args.max_batch), 0.2)
        for m in msgs:
            if m.error():
                print(f"consume error: {m.error()}", file=sys.stderr)
        msgs = [m for m in msgs if not m.error()]
        if not msgs:
            if finished():
                break
            continue
        n += 1
        first, nxt = {}, {}
        for m in msgs:
            first.setdefault(m.partition(), m.offset())
            nxt[m.partition()] = m.offset() + 1
        log(f"begin {n} {len(msgs)}")
        try:
            producer.begin_transaction()
            for m in msgs:
                producer.produce(args.output, key=m.key(), value=b"out-" + m.value(),
                                 partition=m.partition())
            time.sleep(rng.uniform(0, 2 * args.txn_sleep_ms) / 1000)
            producer.send_offsets_to_transaction(
                [TopicPartition(args.input, p, o) for p, o in sorted(nxt.items())],
                consumer.consumer_group_metadata(), args.timeout)
            producer.commit_transaction(args.timeout)
            log(f"commit {n}")
        except KafkaException as e:
            err = e.args[0]
            if not err.txn_requires_abort():
                raise  # fatal (fenced) or out of retries: the test fails on the exit code
            producer.abort_transaction(args.timeout)
            log(f"abort {n} {err.name()}")
            # Redo the batch: back to its first offsets, which the group still has committed.
            for p, o in first.items():
                consumer.seek(TopicPartition(args.input, p, o))
    log("done")
    consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
