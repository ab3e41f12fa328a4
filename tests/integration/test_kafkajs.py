"""kafkajs 2.2.4 (npm, pinned in js/package.json): admin topic creation and produce with keys,
headers, timestamps and gzip, checked by consuming with confluent-kafka; and kafkajs consuming
through a consumer group."""
import shutil
import unittest
from pathlib import Path

from client_helpers import check_records, confluent_consume
from gregor_harness import BrokerTestCase, run

JS_DIR = Path(__file__).resolve().parent / "js"
N = 3000
PARTS = 3


def ensure_kafkajs():
    if not shutil.which("node") or not shutil.which("npm"):
        raise unittest.SkipTest("node/npm not installed (make deps)")
    if not (JS_DIR / "node_modules" / "kafkajs").exists():
        # No lock file: it would record the registry's address; the version is pinned exactly.
        run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock"], cwd=JS_DIR,
            timeout=300)


class Kafkajs(BrokerTestCase):
    needs_real_broker = True  # the mock cluster has no CreateTopics

    @classmethod
    def setUpClass(cls):
        ensure_kafkajs()
        super().setUpClass()

    def node(self, mode, *args, timeout=120):
        return run(["node", JS_DIR / "kafkajs_client.js", mode, self.broker.bootstrap, *args],
                   timeout=timeout)

    def produce_and_check(self, topic, codec):
        out = self.node("produce", topic, PARTS, N, codec)
        self.assertIn("OK kafkajs produce", out.stdout)
        msgs = confluent_consume(self.broker.bootstrap, topic, PARTS, N)
        check_records(self, msgs, N, PARTS)

    def test_admin_create_and_produce(self):
        self.produce_and_check("kjs-none", "none")

    def test_produce_gzip(self):
        self.produce_and_check("kjs-gzip", "gzip")

    def test_consume_with_group(self):
        self.produce_and_check("kjs-group", "none")
        out = self.node("consume", "kjs-group", PARTS, N)
        self.assertIn("OK kafkajs consume", out.stdout)


if __name__ == "__main__":
    unittest.main()
