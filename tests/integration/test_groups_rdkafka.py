"""librdkafka high-level consumers (one process each, rdkafka/group_consumer.c) in groups on
the real broker: sharing, leaving, a killed member's session expiring, every produced record
consumed; cooperative-sticky incremental rebalances; static members rejoining without one."""
import tempfile
import time
import unittest
from pathlib import Path

from gregor_harness import SLOW, BrokerTestCase, KEEP_TMP, wait_until
from group_helpers import (FAST_MEMBER, GROUP_BROKER_OVERRIDES, BackgroundProducer,
                           GroupConsumer, gregorctl, wait_assignments)

PARTS = 6


class RdkafkaGroups(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = GROUP_BROKER_OVERRIDES

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gregor-groups-")
        self.consumers = []
        self.producer = None

    def tearDown(self):
        if self.producer is not None:
            self.producer._stop.set()
        for c in self.consumers:
            c.cleanup()
        if not KEEP_TMP:
            self.tmp.cleanup()
        super().tearDown()

    def consumer(self, name, topic, group, **kw):
        c = GroupConsumer(self.broker, topic, group, str(Path(self.tmp.name) / f"{name}.out"),
                          **kw)
        self.consumers.append(c)
        return c

    def wait_consumed(self, ids, consumers, timeout=60):
        def done():
            seen = set().union(*(c.ids() for c in consumers))
            return ids <= seen
        try:
            wait_until(done, timeout, f"all {len(ids)} produced records consumed")
        except AssertionError as e:
            seen = set().union(*(c.ids() for c in consumers))
            missing = sorted(ids - seen)
            raise AssertionError(f"{e}: {len(missing)} missing, first {missing[:20]}")

    def check_no_gaps(self, consumers):
        """Per partition, the offsets consumed by all members together are 0..max, and each
        member reads each partition in increasing offset order except after a re-assignment."""
        by_part = {}
        for c in consumers:
            for part, off, _ in c.msgs():
                by_part.setdefault(part, set()).add(off)
        for part, offs in by_part.items():
            self.assertEqual(sorted(offs), list(range(max(offs) + 1)),
                             f"partition {part}: offsets skipped")

    def test_share_leave_and_session_expiry(self):
        topic, group = "grp-share", "g-share"
        self.create_topic(topic, PARTS)
        self.producer = BackgroundProducer(self.broker.bootstrap, topic, PARTS, rate=200)
        extra = FAST_MEMBER + ["auto.commit.interval.ms=500"]
        members = [self.consumer(f"c{i}", topic, group, extra=extra) for i in range(3)]
        parts = wait_assignments(members, [2, 2, 2], timeout=60)
        self.assertEqual(sorted(p for ps in parts for p in ps), list(range(PARTS)))

        desc = gregorctl(self.broker, "group", "describe", group, json_out=True)["groups"][0]
        self.assertEqual((desc["state"], desc["member_count"], desc["protocol"]),
                         ("Stable", 3, "range"))

        # c0 leaves cleanly (LeaveGroup): its partitions move to the other two at once.
        left_parts = members[0].assignment()
        members[0].close()
        survivors = members[1:]
        after_leave = wait_assignments(survivors, [3, 3], timeout=30)
        self.assertTrue(set(left_parts) <= set(after_leave[0]) | set(after_leave[1]))

        # c1 is killed: nothing tells the broker; c2 gets everything once its session expires.
        time.sleep(1.0)  # let c1 consume and commit a little under the new assignment
        killed_at = time.monotonic()
        members[1].kill()
        wait_assignments([members[2]], [PARTS], timeout=60)
        waited = time.monotonic() - killed_at
        self.assertGreater(waited, 4.0, "partitions moved before the 6 s session could expire")

        time.sleep(1.0)
        acked = self.producer.stop()
        self.producer = None
        self.assertGreater(len(acked), 500)
        self.wait_consumed(acked, members, timeout=60)
        members[2].close()

        self.check_no_gaps(members)
        total = sum(len(c.msgs()) for c in members)
        dupes = total - len(set().union(*(c.ids() for c in members)))
        # At-least-once: re-reads only around the two rebalances (auto-commit every 0.5 s, and
        # the killed member's last uncommitted reads), never most of the stream.
        self.assertLess(dupes, len(acked) // 3, f"{dupes} duplicates of {len(acked)} records")

    def test_cooperative_sticky_incremental(self):
        topic, group = "grp-coop", "g-coop"
        self.create_topic(topic, PARTS)
        extra = FAST_MEMBER
        a = self.consumer("a", topic, group, strategy="cooperative-sticky", extra=extra)
        b = self.consumer("b", topic, group, strategy="cooperative-sticky", extra=extra)
        before = wait_assignments([a, b], [3, 3], timeout=60)
        seen_events = {"a": len(a.rebalance_events()), "b": len(b.rebalance_events())}
        c = self.consumer("c", topic, group, strategy="cooperative-sticky", extra=extra)
        after = wait_assignments([a, b, c], [2, 2, 2], timeout=60)
        for name, old, new, m in (("a", before[0], after[0], a), ("b", before[1], after[1], b)):
            # Sticky: the old members keep what they still own; cooperative: they only ever
            # revoke the partitions that move, never their whole assignment.
            self.assertTrue(set(new) <= set(old), f"{name}: {old} -> {new}")
            events = m.rebalance_events()
            self.assertTrue(all(proto == "COOPERATIVE" for _, proto, _ in events), events)
            events = events[seen_events[name]:]  # since the 3-3 split
            revoked = {p for kind, _, ps in events if kind == "revoke" for p in ps}
            self.assertEqual(revoked, set(old) - set(new), f"{name}: events {events}")
        self.assertEqual(sorted(p for ps in after for p in ps), list(range(PARTS)))

        # Records produced now reach their owners without further rebalances.
        events_before = [m.rebalances() for m in (a, b, c)]
        self.producer = BackgroundProducer(self.broker.bootstrap, topic, PARTS, rate=300)
        time.sleep(1.5)
        acked = self.producer.stop()
        self.producer = None
        self.wait_consumed(acked, [a, b, c], timeout=30)
        self.assertEqual([m.rebalances() for m in (a, b, c)], events_before)
        for m in (a, b, c):
            m.close()

    def test_static_member_restart_without_rebalance(self):
        topic, group = "grp-static", "g-static"
        self.create_topic(topic, PARTS)
        extra = ["session.timeout.ms=15000", "heartbeat.interval.ms=500"]
        s1 = self.consumer("s1", topic, group, instance_id="inst-1", extra=extra)
        s2 = self.consumer("s2", topic, group, instance_id="inst-2", extra=extra)
        before = wait_assignments([s1, s2], [3, 3], timeout=60)
        desc = gregorctl(self.broker, "group", "describe", group, json_out=True)["groups"][0]
        ids_before = {m["group_instance_id"]: m["member_id"] for m in desc["members"]}
        self.assertEqual(set(ids_before), {"inst-1", "inst-2"})
        s2_events = s2.rebalances()

        # A static member leaves no LeaveGroup behind, so a killed one is what the broker sees
        # of a restart; it comes back within the session. (librdkafka 2.0.2's consumer_close of
        # a static member sometimes never returns after its group sub-system has terminated,
        # about 1 in 10 runs on a loaded machine, so the test does not depend on it.)
        s1.kill()
        s1b = self.consumer("s1b", topic, group, instance_id="inst-1", extra=extra)
        wait_until(lambda: s1b.assignment() is not None, 30, "restarted static member assigned")
        self.assertEqual(s1b.assignment(), before[0])

        # Prove the group is stable and serving: new records reach both members.
        self.producer = BackgroundProducer(self.broker.bootstrap, topic, PARTS, rate=300)
        time.sleep(1.5 * SLOW)
        acked = self.producer.stop()
        self.producer = None
        self.wait_consumed(acked, [s1b, s2], timeout=30)
        self.assertEqual(s2.rebalances(), s2_events, f"s2 saw a rebalance: {s2.lines()[-5:]}")
        self.assertEqual(s2.assignment(), before[1])
        self.assertEqual(s1b.rebalances(), 1, s1b.rebalance_events())

        desc = gregorctl(self.broker, "group", "describe", group, json_out=True)["groups"][0]
        ids_after = {m["group_instance_id"]: m["member_id"] for m in desc["members"]}
        self.assertEqual(desc["state"], "Stable")
        self.assertEqual(ids_after["inst-2"], ids_before["inst-2"])
        self.assertNotEqual(ids_after["inst-1"], ids_before["inst-1"],
                            "a rejoining static member gets a new member id")


if __name__ == "__main__":
    unittest.main()
