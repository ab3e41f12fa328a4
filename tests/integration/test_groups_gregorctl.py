"""gregorctl group verbs end to end against the real broker and a librdkafka group: list,
describe with lag, offsets reset (each mode, dry run and --execute, refused while the group is
active), and delete; a member that joins after a reset starts at the reset offsets."""
import tempfile
import unittest
from pathlib import Path

from client_helpers import confluent_produce
from gregor_harness import BrokerTestCase, KEEP_TMP, wait_until
from group_helpers import GROUP_BROKER_OVERRIDES, FAST_MEMBER, GroupConsumer, gregorctl

TOPIC, GROUP = "ctl-t", "g-ctl"
PARTS, N = 2, 100
END = N // PARTS  # log end offset of each partition


class GregorctlGroups(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = GROUP_BROKER_OVERRIDES

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="gregor-ctl-groups-")
        self.consumers = []

    def tearDown(self):
        for c in self.consumers:
            c.cleanup()
        if not KEEP_TMP:
            self.tmp.cleanup()
        super().tearDown()

    def member(self, name, **kw):
        c = GroupConsumer(self.broker, TOPIC, GROUP, str(Path(self.tmp.name) / f"{name}.out"),
                          extra=FAST_MEMBER + ["enable.auto.commit=false"], **kw)
        self.consumers.append(c)
        return c

    def committed(self):
        desc = gregorctl(self.broker, "group", "describe", GROUP, json_out=True)["groups"][0]
        return {o["partition"]: o["committed_offset"] for o in desc["offsets"]}, desc

    def reset(self, *args, execute=False):
        mode = ["--execute"] if execute else []
        out = gregorctl(self.broker, "group", "offsets", "reset", GROUP, *args, *mode,
                        json_out=True)
        self.assertEqual(out["executed"], execute, out)
        self.assertTrue(all(p["error"] is None for p in out["partitions"]), out)
        return {p["partition"]: p["new_offset"] for p in out["partitions"]}

    def test_group_verbs(self):
        self.create_topic(TOPIC, PARTS)
        confluent_produce(self.broker.bootstrap, TOPIC, N, PARTS)
        first = self.member("first", exit_after=60)
        first.wait(90)
        self.assertIn("committed", first.lines())

        # list / describe of the now empty group with its commits and lag.
        groups = gregorctl(self.broker, "group", "list", json_out=True)["groups"]
        self.assertIn({"group_id": GROUP, "protocol_type": "consumer", "state": "Empty"}, groups)
        self.assertNotIn("__consumer_offsets", [g["group_id"] for g in groups])
        empty = gregorctl(self.broker, "group", "list", "--state", "Stable", json_out=True)
        self.assertNotIn(GROUP, [g["group_id"] for g in empty["groups"]])
        committed, desc = self.committed()
        self.assertEqual((desc["state"], desc["member_count"]), ("Empty", 0))
        self.assertEqual(sum(committed.values()), 60, desc)
        for o in desc["offsets"]:
            self.assertEqual((o["log_end_offset"], o["lag"]), (END, END - o["committed_offset"]))
            self.assertIsNone(o["member_id"])
        table = gregorctl(self.broker, "group", "describe", GROUP).stdout
        self.assertIn("LAG", table)
        self.assertIn("State: Empty", table)

        # offsets reset: dry runs change nothing, --execute commits.
        self.assertEqual(self.reset("--topic", TOPIC, "--to-earliest"), {0: 0, 1: 0})
        self.assertEqual(self.committed()[0], committed)
        self.assertEqual(self.reset("--topic", TOPIC, "--to-offset", "10", execute=True),
                         {0: 10, 1: 10})
        self.assertEqual(self.committed()[0], {0: 10, 1: 10})
        self.assertEqual(self.reset("--all-topics", "--shift-by", "1000"), {0: END, 1: END})
        self.assertEqual(self.reset("--all-topics", "--shift-by", "-4", execute=True),
                         {0: 6, 1: 6})
        # Record i is at partition i % 2, offset i // 2, timestamp 1700000000000 + 10 i.
        self.assertEqual(self.reset("--topic", TOPIC, "--to-datetime",
                                    "2023-11-14T22:13:20.400Z"), {0: 20, 1: 20})
        self.assertEqual(self.reset("--topic", f"{TOPIC}:1", "--to-latest", execute=True),
                         {1: END})
        self.assertEqual(self.committed()[0], {0: 6, 1: END})

        # A new member starts at the reset offsets: partition 0 from 6, nothing on 1.
        active = self.member("active")
        wait_until(lambda: len(active.msgs()) >= END - 6, 60, "records after the reset point")
        msgs = active.msgs()
        self.assertEqual(sorted((p, o) for p, o, _ in msgs), [(0, o) for o in range(6, END)])
        _, desc = self.committed()
        self.assertEqual((desc["state"], desc["member_count"]), ("Stable", 1))
        self.assertTrue(all(o["member_id"] for o in desc["offsets"]), desc)

        # While the group is active: reset refused (dry run and execute), delete refused.
        for mode in ([], ["--execute"]):
            p = gregorctl(self.broker, "group", "offsets", "reset", GROUP, "--all-topics",
                          "--to-earliest", *mode, check=False)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn("inactive", p.stderr)
            self.assertIn("Stable", p.stderr)
        self.assertEqual(self.committed()[0], {0: 6, 1: END})
        p = gregorctl(self.broker, "group", "delete", GROUP, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("NON_EMPTY_GROUP", p.stderr)

        # Once the member left, delete works and the group and its offsets are gone.
        active.close()
        p = gregorctl(self.broker, "group", "delete", GROUP)
        self.assertIn(f"Deleted group {GROUP}.", p.stdout)
        groups = gregorctl(self.broker, "group", "list", json_out=True)["groups"]
        self.assertNotIn(GROUP, [g["group_id"] for g in groups])
        p = gregorctl(self.broker, "group", "describe", GROUP, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("GROUP_ID_NOT_FOUND", p.stderr)
        p = gregorctl(self.broker, "group", "delete", GROUP, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("GROUP_ID_NOT_FOUND", p.stderr)


if __name__ == "__main__":
    unittest.main()
