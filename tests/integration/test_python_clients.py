"""confluent-kafka-python 1.7.0 and kafka-python 2.0.2 against the broker: produce and consume
with every codec each client can use here, and kafka-python's broker-version probe."""
import importlib.util
import unittest

from client_helpers import (check_records, confluent_consume, confluent_produce, record)
from gregor_harness import BrokerTestCase, SLOW

N = 2000
PARTS = 3
CONFLUENT_CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
# kafka-python compresses in Python; only gzip is built in, the rest need modules Debian ships
# separately (python3-snappy, python3-lz4, python3-zstandard).
KPY_CODECS = {None: None, "gzip": None, "snappy": "snappy", "lz4": "lz4", "zstd": "zstandard"}


class ConfluentKafka(BrokerTestCase):
    mock_topics = [f"ck-{c}:{PARTS}" for c in CONFLUENT_CODECS]

    def test_codecs(self):
        for codec in CONFLUENT_CODECS:
            with self.subTest(codec=codec):
                topic = f"ck-{codec}"
                self.create_topic(topic, PARTS)
                confluent_produce(self.broker.bootstrap, topic, N, PARTS,
                                  {"compression.type": codec, "acks": "all"})
                msgs = confluent_consume(self.broker.bootstrap, topic, PARTS, N)
                check_records(self, msgs, N, PARTS)


class KafkaPython(BrokerTestCase):
    mock_topics = [f"kpy-{c or 'none'}:{PARTS}" for c in KPY_CODECS] + ["kpy-probe:1"]

    def kafka_python_roundtrip(self, codec):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        topic = f"kpy-{codec or 'none'}"
        self.create_topic(topic, PARTS)
        prod = KafkaProducer(bootstrap_servers=self.broker.bootstrap, compression_type=codec,
                             acks="all", linger_ms=5)
        futures = []
        for i in range(N):
            part, key, value, headers, ts = record(i, PARTS)
            futures.append(prod.send(topic, value=value, key=key, headers=headers,
                                     partition=part, timestamp_ms=ts))
        prod.flush(60 * SLOW)
        metas = [f.get(timeout=30 * SLOW) for f in futures]
        prod.close()
        for i, md in enumerate(metas):
            self.assertEqual(md.partition, i % PARTS)
            self.assertEqual(md.offset, i // PARTS)

        cons = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, group_id=None,
                             enable_auto_commit=False, consumer_timeout_ms=int(10000 * SLOW))
        tps = [TopicPartition(topic, p) for p in range(PARTS)]
        cons.assign(tps)
        cons.seek_to_beginning(*tps)
        got = []
        for m in cons:
            got.append(m)
            if len(got) == N:
                break
        cons.close()
        self.assertEqual(len(got), N)
        seen = {}
        for m in got:
            i = int(m.key[1:])
            part, key, value, headers, ts = record(i, PARTS)
            self.assertEqual((m.partition, m.key, m.value, m.timestamp), (part, key, value, ts))
            self.assertEqual([(k, v) for k, v in m.headers], headers)
            self.assertEqual(m.offset, i // PARTS)
            seen[i] = True
        self.assertEqual(len(seen), N)

    def test_codecs(self):
        for codec, module in KPY_CODECS.items():
            with self.subTest(codec=codec):
                if module and importlib.util.find_spec(module) is None:
                    self.skipTest(f"kafka-python {codec} needs python module {module}")
                self.kafka_python_roundtrip(codec)

    def test_version_probe(self):
        from kafka import KafkaAdminClient, KafkaConsumer
        # api_version=None makes kafka-python probe: ApiVersions v0, then guesses from the table.
        cons = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, group_id=None,
                             api_version=None)
        version = cons.config["api_version"]
        cons.close()
        self.assertGreaterEqual(version, (0, 11), f"kafka-python guessed {version}: no headers")
        self.create_topic("kpy-probe", 1)
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
        self.assertIn("kpy-probe", admin.list_topics())
        admin.close()


if __name__ == "__main__":
    unittest.main()
