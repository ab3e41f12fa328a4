"""Committed offsets survive broker restarts: each stock client (confluent-kafka-python,
kafka-python, librdkafka, kafkajs) consumes part of a topic in a group, commits, the broker is
restarted (SIGTERM, then SIGKILL), and the next member of the group resumes exactly there."""
import json
import signal
import tempfile
import time
import unittest
from pathlib import Path

from client_helpers import confluent_produce
from gregor_harness import SLOW, BrokerTestCase, run
from group_helpers import GROUP_BROKER_OVERRIDES, GroupConsumer, gregorctl
from test_kafkajs import JS_DIR, ensure_kafkajs

PARTS = 3
N = 300
STEP = 100  # records consumed (and committed) by each member before a restart


class ResumeAfterRestart(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = GROUP_BROKER_OVERRIDES

    def consume_in_phases(self, topic, group, consume_step):
        """consume_step(count) -> ids consumed and committed by one group member that then
        leaves. Three members, with a SIGTERM and a SIGKILL restart between them."""
        self.create_topic(topic, PARTS)
        confluent_produce(self.broker.bootstrap, topic, N, PARTS)
        seen = []
        for phase, sig in enumerate((signal.SIGTERM, signal.SIGKILL, None)):
            ids = consume_step(STEP)
            self.assertEqual(len(ids), STEP, f"phase {phase}")
            self.assertFalse(set(ids) & set(seen),
                             f"phase {phase} re-read committed records: "
                             f"{sorted(set(ids) & set(seen))[:10]}")
            seen += ids
            self.check_committed(group, topic, len(seen))
            if sig is not None:
                self.broker.restart(sig)
        self.assertEqual(sorted(seen), list(range(N)))

    def check_committed(self, group, topic, total):
        """gregorctl sees the group's committed offsets summing to what was consumed."""
        desc = gregorctl(self.broker, "group", "describe", group, json_out=True)["groups"][0]
        committed = {o["partition"]: o["committed_offset"] for o in desc["offsets"]
                     if o["topic"] == topic}
        self.assertEqual(sum(v or 0 for v in committed.values()), total, desc)
        for o in desc["offsets"]:
            self.assertEqual(o["log_end_offset"], N // PARTS, o)
            self.assertEqual(o["lag"], N // PARTS - (o["committed_offset"] or 0), o)

    def test_confluent_kafka(self):
        from confluent_kafka import Consumer

        def step(count):
            c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "g-cf",
                          "auto.offset.reset": "earliest", "enable.auto.commit": False,
                          "enable.partition.eof": False})
            c.subscribe(["resume-cf"])
            ids = []
            deadline = time.monotonic() + 60 * SLOW
            try:
                while len(ids) < count and time.monotonic() < deadline:
                    m = c.poll(0.5)
                    if m is None:
                        continue
                    if m.error():
                        # Transient while the restarted broker reloads its groups.
                        continue
                    ids.append(int(m.key()[1:]))
                c.commit(asynchronous=False)
            finally:
                c.close()
            return ids
        self.consume_in_phases("resume-cf", "g-cf", step)

    def test_kafka_python(self):
        from kafka import KafkaConsumer

        def step(count):
            c = KafkaConsumer("resume-kp", group_id="g-kp",
                              bootstrap_servers=self.broker.bootstrap,
                              auto_offset_reset="earliest", enable_auto_commit=False,
                              session_timeout_ms=10000, heartbeat_interval_ms=1000)
            ids = []
            deadline = time.monotonic() + 60 * SLOW
            try:
                while len(ids) < count and time.monotonic() < deadline:
                    for records in c.poll(500, max_records=count - len(ids)).values():
                        ids += [int(r.key[1:]) for r in records]
                c.commit()
            finally:
                c.close()
            return ids
        self.consume_in_phases("resume-kp", "g-kp", step)

    def test_librdkafka(self):
        tmp = tempfile.TemporaryDirectory(prefix="gregor-resume-")
        self.addCleanup(tmp.cleanup)
        phase = [0]

        def step(count):
            phase[0] += 1
            c = GroupConsumer(self.broker, "resume-rdk", "g-rdk",
                              str(Path(tmp.name) / f"p{phase[0]}.out"), exit_after=count,
                              extra=["enable.auto.commit=false"])
            try:
                c.wait(90)
            finally:
                c.cleanup()
            self.assertIn("committed", c.lines())
            return [m[2] for m in c.msgs()]
        self.consume_in_phases("resume-rdk", "g-rdk", step)

    def test_kafkajs(self):
        ensure_kafkajs()

        def step(count):
            p = run(["node", JS_DIR / "group_consume.js", self.broker.bootstrap, "resume-kjs",
                     "g-kjs", count], timeout=120)
            out = json.loads(p.stdout.strip().splitlines()[-1])
            self.assertGreaterEqual(out["groupJoins"], 1)
            return out["ids"]
        self.consume_in_phases("resume-kjs", "g-kjs", step)


if __name__ == "__main__":
    unittest.main()
