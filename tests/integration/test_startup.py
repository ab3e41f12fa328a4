"""Start-up and shutdown of gregord itself: SIGINT is a clean exit, bad configuration stops
start-up naming the key, topics and data survive a restart, and one data dir has one owner."""
import signal
import subprocess
import unittest

from client_helpers import check_records, confluent_consume, confluent_produce
from gregor_harness import (SLOW, Broker, BrokerTestCase, free_port, gregord_path, port_open,
                            run)


class Startup(BrokerTestCase):
    needs_real_broker = True

    def test_sigint_is_clean(self):
        b = Broker(name="sigint")
        self.addCleanup(b.cleanup)
        b.start()
        self.assertEqual(b.stop(signal.SIGINT), 0, b.stderr_tail())

    def test_invalid_config_names_the_key(self):
        for key, value in (("num.partitions", "abc"), ("num.partitions", "0"),
                           ("log.segment.bytes", "-5"), ("socket.request.max.bytes", "x")):
            with self.subTest(key=key, value=value):
                port = free_port()
                p = run([gregord_path(), "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                         "--override", f"log.dirs={self.broker.tmp / 'bad'}", "--override",
                         f"{key}={value}"], check=False, timeout=20)
                self.assertNotEqual(p.returncode, 0, f"{key}={value} was accepted")
                self.assertIn(key, p.stdout + p.stderr)
                self.assertFalse(port_open(port))

    def test_missing_config_file(self):
        p = run([gregord_path(), "--config", self.broker.tmp / "nope.properties"], check=False,
                timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("nope.properties", p.stdout + p.stderr)

    def test_topics_and_records_survive_restart(self):
        self.create_topic("survive", 3, {"retention.ms": "3600000"})
        confluent_produce(self.broker.bootstrap, "survive", 300, partitions=3)
        self.assertEqual(self.broker.restart(signal.SIGTERM), 0)
        self.wait_for_topic("survive", 3)
        check_records(self, confluent_consume(self.broker.bootstrap, "survive", 3, 300), 300, 3)
        # Appends continue at the right offsets after the restart.
        confluent_produce(self.broker.bootstrap, "survive", 300, partitions=3, start=300)
        check_records(self, confluent_consume(self.broker.bootstrap, "survive", 3, 600), 600, 3)

    def test_second_broker_on_same_data_dir_refused(self):
        port = free_port()
        cmd = [gregord_path(), "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
               "--override", f"log.dirs={self.broker.data_dir}"]
        proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = proc.communicate(timeout=15 * SLOW)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            self.fail("a second gregord started on a data dir that is in use:\n" + out[-2000:])
        self.assertNotEqual(proc.returncode, 0, out)
        self.assert_broker_alive()


if __name__ == "__main__":
    unittest.main()
