"""One group, two client implementations: a librdkafka member (group_consumer) and a
kafka-python member agree on the range assignor through the broker, which passes the leader's
assignment through untouched; each then reads exactly the records of its own partitions."""
import tempfile
import threading
import time
import unittest
from pathlib import Path

from client_helpers import confluent_produce
from gregor_harness import KEEP_TMP, SLOW, BrokerTestCase, wait_until
from group_helpers import FAST_MEMBER, GROUP_BROKER_OVERRIDES, GroupConsumer, gregorctl

TOPIC, GROUP, PARTS, N = "mixed-t", "g-mixed", 4, 400


class KafkaPythonMember:
    """A kafka-python KafkaConsumer polling in a thread (it heartbeats from poll)."""

    def __init__(self, bootstrap):
        from kafka import KafkaConsumer
        from kafka.coordinator.assignors.range import RangePartitionAssignor
        self.consumer = KafkaConsumer(
            TOPIC, group_id=GROUP, bootstrap_servers=bootstrap, client_id="kafka-python-member",
            auto_offset_reset="earliest", enable_auto_commit=False,
            session_timeout_ms=6000, heartbeat_interval_ms=500,
            partition_assignment_strategy=[RangePartitionAssignor])
        self.ids, self.assignment, self.error = [], None, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        try:
            while not self._stop.is_set():
                for records in self.consumer.poll(200).values():
                    self.ids += [int(r.key[1:]) for r in records]
                self.assignment = sorted(tp.partition for tp in self.consumer.assignment())
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def close(self):
        self._stop.set()
        self._thread.join(30 * SLOW)
        self.consumer.close()


class MixedClients(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = GROUP_BROKER_OVERRIDES

    def test_librdkafka_and_kafka_python_share_a_group(self):
        tmp = tempfile.TemporaryDirectory(prefix="gregor-mixed-")
        if not KEEP_TMP:
            self.addCleanup(tmp.cleanup)
        self.create_topic(TOPIC, PARTS)
        rdk = GroupConsumer(self.broker, TOPIC, GROUP, str(Path(tmp.name) / "rdk.out"),
                            strategy="range", extra=FAST_MEMBER + ["client.id=rdkafka-member"])
        self.addCleanup(rdk.cleanup)
        kp = KafkaPythonMember(self.broker.bootstrap)
        try:
            def split():
                if kp.error:
                    raise AssertionError(f"kafka-python member failed: {kp.error!r}")
                a, b = rdk.assignment(), kp.assignment
                return (a is not None and b is not None and len(a) == 2 and len(b) == 2
                        and sorted(a + b) == list(range(PARTS)))
            wait_until(split, 60, "a 2-2 split between librdkafka and kafka-python")
            rdk_parts, kp_parts = rdk.assignment(), kp.assignment

            desc = gregorctl(self.broker, "group", "describe", GROUP, json_out=True)["groups"][0]
            self.assertEqual((desc["state"], desc["protocol"], desc["member_count"]),
                             ("Stable", "range", 2))
            self.assertEqual(sorted(m["client_id"] for m in desc["members"]),
                             ["kafka-python-member", "rdkafka-member"])

            confluent_produce(self.broker.bootstrap, TOPIC, N, PARTS)
            wait_until(lambda: len(set(rdk.ids()) | set(kp.ids)) == N, 60,
                       "every record consumed by one of the two members")
            time.sleep(0.5)  # nothing else may arrive: each record belongs to one member
            self.assertEqual(sorted(m[2] for m in rdk.msgs()),
                             [i for i in range(N) if i % PARTS in rdk_parts])
            self.assertEqual(sorted(kp.ids), [i for i in range(N) if i % PARTS in kp_parts])
            self.assertEqual((rdk.assignment(), kp.assignment), (rdk_parts, kp_parts))
        finally:
            kp.close()
        rdk.close()


if __name__ == "__main__":
    unittest.main()
