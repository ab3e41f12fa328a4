"""Produce/consume helpers over the Debian Python clients (confluent-kafka = librdkafka 2.0.2,
kafka-python 2.0.2), with explicit partition assignment and no offset commits: the broker has
no consumer groups yet."""
import time

from gregor_harness import SLOW

BASE_TS = 1_700_000_000_000


def record(i, partitions=1):
    """The i-th test record: (partition, key, value, headers, timestamp_ms)."""
    return (i % partitions, f"k{i}".encode(), f"value-{i}-".encode() * 4,
            [("h1", str(i).encode()), ("h2", b"x")], BASE_TS + i * 10)


def confluent_produce(bootstrap, topic, n, partitions=1, conf=None, start=0):
    from confluent_kafka import Producer
    errors = []
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **(conf or {})})

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
    for i in range(start, start + n):
        part, key, value, headers, ts = record(i, partitions)
        while True:
            try:
                p.produce(topic, value=value, key=key, headers=headers, partition=part,
                          timestamp=ts, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60 * SLOW)
    if left or errors:
        raise AssertionError(f"confluent-kafka produce to {topic}: {left} undelivered, "
                             f"errors {errors[:5]}")


def confluent_consume(bootstrap, topic, partitions, expected, timeout=60, conf=None,
                      start_offset=None):
    """Assigns every partition from the beginning (or start_offset) and returns the records
    read until `expected` arrived or the deadline passed: list of confluent Messages."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "gregor-itest-unused",
                  "enable.auto.commit": False, "enable.auto.offset.store": False,
                  "enable.partition.eof": False, **(conf or {})})
    start = OFFSET_BEGINNING if start_offset is None else start_offset
    c.assign([TopicPartition(topic, p, start) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout * SLOW
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                if m.error():
                    raise AssertionError(f"consume {topic}: {m.error()}")
                out.append(m)
    finally:
        c.close()
    return out


def check_records(test, msgs, n, partitions=1, start=0):
    """Every record start..start+n-1 exactly once, in its partition, in order, offsets from 0."""
    test.assertEqual(len(msgs), n, f"expected {n} records, got {len(msgs)}")
    by_part = {}
    for m in msgs:
        by_part.setdefault(m.partition(), []).append(m)
    for part, ms in by_part.items():
        test.assertEqual([m.offset() for m in ms], list(range(len(ms))),
                         f"partition {part}: offsets not contiguous from 0")
        ids = [int(m.key()[1:]) for m in ms]
        test.assertEqual(ids, sorted(ids), f"partition {part}: out of order")
        for m in ms:
            i = int(m.key()[1:])
            p, key, value, headers, ts = record(i, partitions)
            test.assertEqual((m.partition(), m.key(), m.value()), (p, key, value))
            test.assertEqual(list(m.headers() or []), headers)
            test.assertEqual(m.timestamp()[1], ts)
    test.assertEqual(sorted(int(m.key()[1:]) for m in msgs), list(range(start, start + n)))
