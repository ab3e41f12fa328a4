"""gregorctl topic verbs end to end against a running broker, including the Kafka errors it must
name on failure and machine-readable --output json."""
import json
import unittest

from gregor_harness import BrokerTestCase, gregorctl_path, run, wait_until


def names_in(obj):
    """Topic names anywhere in gregorctl's JSON: a list of names, or objects with a name."""
    if isinstance(obj, str):
        return {obj}
    if isinstance(obj, list):
        return set().union(*(names_in(x) for x in obj)) if obj else set()
    if isinstance(obj, dict):
        found = set()
        for k in ("name", "topic"):
            if isinstance(obj.get(k), str):
                found.add(obj[k])
        for k in ("topics", "items"):
            if k in obj:
                found |= names_in(obj[k])
        return found
    return set()


def partition_count(obj, topic):
    """Partition count of `topic` from describe's JSON (a count or a list of partitions)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            if o.get("name", o.get("topic")) == topic:
                for k in ("partitions", "partition_count", "num_partitions", "partitionCount"):
                    v = o.get(k)
                    if isinstance(v, list):
                        return len(v)
                    if isinstance(v, int):
                        return v
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return None


class Gregorctl(BrokerTestCase):
    needs_real_broker = True

    @classmethod
    def setUpClass(cls):
        if not gregorctl_path().exists():
            raise AssertionError(f"gregorctl is not built at {gregorctl_path()}")
        super().setUpClass()

    def ctl(self, *args, check=True, json_out=False):
        cmd = [gregorctl_path(), "--bootstrap-server", self.broker.bootstrap]
        if json_out:
            cmd += ["--output", "json"]
        p = run(cmd + list(args), check=check, timeout=60)
        return json.loads(p.stdout) if json_out and check else p

    def assert_fails_with(self, error_name, *args):
        p = self.ctl(*args, check=False)
        self.assertNotEqual(p.returncode, 0, f"gregorctl {' '.join(args)} succeeded:\n{p.stdout}")
        self.assertIn(error_name, p.stdout + p.stderr,
                      f"gregorctl {' '.join(args)} did not name {error_name}")

    def test_create_list_describe_delete(self):
        self.ctl("topic", "create", "ctl-a", "--partitions", "3", "--replication-factor", "1")
        self.ctl("topic", "create", "ctl-b", "--partitions", "1", "--config", "retention.ms=3600000",
                 "--config", "cleanup.policy=delete")
        self.assertIn("ctl-a", self.ctl("topic", "list").stdout.split())
        self.assertTrue({"ctl-a", "ctl-b"} <= names_in(self.ctl("topic", "list", json_out=True)))
        self.assertIn("ctl-a", self.ctl("topic", "describe", "ctl-a").stdout)
        desc = self.ctl("topic", "describe", "ctl-a", json_out=True)
        self.assertEqual(partition_count(desc, "ctl-a"), 3, desc)
        all_desc = self.ctl("topic", "describe", json_out=True)
        self.assertEqual(partition_count(all_desc, "ctl-b"), 1, all_desc)
        self.wait_for_topic("ctl-a", 3)  # stock clients see the same thing

        self.ctl("topic", "delete", "ctl-a")
        wait_until(lambda: "ctl-a" not in names_in(self.ctl("topic", "list", json_out=True)), 20,
                   "ctl-a to disappear from topic list")
        self.assert_fails_with("UNKNOWN_TOPIC_OR_PARTITION", "topic", "describe", "ctl-a")
        # The name is free again.
        self.ctl("topic", "create", "ctl-a", "--partitions", "2")
        self.assertEqual(partition_count(self.ctl("topic", "describe", "ctl-a", json_out=True),
                                         "ctl-a"), 2)

    def test_topic_exists(self):
        self.ctl("topic", "create", "ctl-dup", "--partitions", "1")
        self.assert_fails_with("TOPIC_ALREADY_EXISTS", "topic", "create", "ctl-dup",
                               "--partitions", "1")

    def test_unknown_topic(self):
        self.assert_fails_with("UNKNOWN_TOPIC_OR_PARTITION", "topic", "describe", "ctl-nope")
        self.assert_fails_with("UNKNOWN_TOPIC_OR_PARTITION", "topic", "delete", "ctl-nope")

    def test_invalid_names(self):
        for name in ("bad/name", "..", ".", "x" * 250, "sp ace", "ünï"):
            with self.subTest(name=name):
                self.assert_fails_with("INVALID_TOPIC_EXCEPTION", "topic", "create", name,
                                       "--partitions", "1")
        self.assertNotIn("bad/name", names_in(self.ctl("topic", "list", json_out=True)))

    def test_invalid_partitions(self):
        self.assert_fails_with("INVALID_PARTITIONS", "topic", "create", "ctl-zero",
                               "--partitions", "0")

    def test_invalid_replication_factor(self):
        self.assert_fails_with("INVALID_REPLICATION_FACTOR", "topic", "create", "ctl-rf",
                               "--partitions", "1", "--replication-factor", "3")

    def test_unreachable_broker_fails(self):
        p = run([gregorctl_path(), "--bootstrap-server", "127.0.0.1:1", "topic", "list"],
                check=False, timeout=60)
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
