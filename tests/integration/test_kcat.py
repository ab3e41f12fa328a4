"""kcat (librdkafka 2.0.2 inside): metadata listing, keyed produce, consume to end, and
offsets by timestamp."""
import json
import re
import unittest

from client_helpers import BASE_TS, confluent_produce
from gregor_harness import MOCK, BrokerTestCase, run


class Kcat(BrokerTestCase):
    mock_topics = ["kcat-meta:3", "kcat-kv:1", "kcat-snappy:1", "kcat-q:1"]

    def kcat(self, *args, input=None, timeout=60):
        return run(["kcat", "-b", self.broker.bootstrap, *args], input=input, timeout=timeout)

    def test_metadata(self):
        self.create_topic("kcat-meta", 3)
        out = self.kcat("-L", "-t", "kcat-meta").stdout
        self.assertIn('topic "kcat-meta" with 3 partitions', out)
        md = json.loads(self.kcat("-L", "-J").stdout)
        self.assertEqual(len(md["brokers"]), 1, md)
        self.assertEqual(md["brokers"][0]["name"].rsplit("/", 1)[0], self.broker.bootstrap)
        topics = {t["topic"]: t for t in md["topics"]}
        self.assertEqual(len(topics["kcat-meta"]["partitions"]), 3)
        for p in topics["kcat-meta"]["partitions"]:
            self.assertEqual(p["leader"], md["brokers"][0]["id"])

    def produce_consume(self, topic, codec_args):
        self.create_topic(topic, 1)
        lines = [f"key{i}:value {i} " + "z" * (i % 50) for i in range(1000)]
        self.kcat("-P", "-t", topic, "-p", "0", "-K:", *codec_args, input="\n".join(lines) + "\n")
        out = self.kcat("-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
                        "-f", "%k:%s@%o\n").stdout
        got = out.splitlines()
        self.assertEqual(len(got), len(lines), out[-2000:])
        self.assertEqual(got, [f"{line}@{i}" for i, line in enumerate(lines)])

    def test_produce_keys_consume_to_end(self):
        self.produce_consume("kcat-kv", [])

    def test_produce_snappy(self):
        self.produce_consume("kcat-snappy", ["-z", "snappy"])

    def test_query_offsets_by_time(self):
        self.create_topic("kcat-q", 1)
        confluent_produce(self.broker.bootstrap, "kcat-q", 100)  # timestamps BASE_TS + 10*i
        for ts, want in ((BASE_TS + 500, 50), (BASE_TS + 505, 51), (BASE_TS, 0)):
            out = self.kcat("-Q", "-t", f"kcat-q:0:{ts}").stdout
            m = re.search(r"\[0\]\s+offset\s+(-?\d+)", out)
            self.assertTrue(m, out)
            if not MOCK:
                self.assertEqual(int(m.group(1)), want, out)


if __name__ == "__main__":
    unittest.main()
