"""librdkafka round trip per compression codec: 100,000 keyed records with headers and
timestamps over 4 partitions, read back exactly; the segment files must hold batches compressed
with that codec (librdkafka silently sends uncompressed batches if ApiVersions disappoints it)."""
import unittest

from gregor_harness import MOCK, BrokerTestCase, batch_headers

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
RECORDS = 100_000
PARTITIONS = 4


class RdkafkaCodecs(BrokerTestCase):
    mock_topics = [f"codec-{c}:{PARTITIONS}" for c in CODECS] + [f"codec-keyed:{PARTITIONS}"]

    def check_codec(self, codec):
        topic = f"codec-{codec}"
        out = self.rdkafka("roundtrip", topic, codec=codec, count=RECORDS,
                           partitions=PARTITIONS, create=not MOCK, timeout=180)
        self.assertIn("OK roundtrip", out.stdout)
        if MOCK:
            return
        for p in range(PARTITIONS):
            segments = self.broker.segment_files(topic, p)
            self.assertTrue(segments, f"no .log segment in {self.broker.partition_dir(topic, p)}")
            headers = [h for s in segments for h in batch_headers(s)]
            self.assertTrue(headers, f"{topic}-{p}: no record batch in {segments}")
            for base, _len, magic, attrs, _delta in headers:
                self.assertEqual(magic, 2, f"{topic}-{p} batch at {base}: magic {magic}")
                self.assertEqual(
                    attrs & 7, CODECS[codec],
                    f"{topic}-{p} batch at offset {base} has codec {attrs & 7}, expected "
                    f"{CODECS[codec]} ({codec}): the client fell back or the broker recompressed")
            last = headers[-1]
            self.assertEqual(last[0] + last[4] + 1, RECORDS // PARTITIONS,
                             f"{topic}-{p}: last batch does not end at the record count")
        self.assert_broker_alive()

    def test_key_partitioner_acks_1(self):
        # librdkafka's own key hashing chooses partitions; the DR reports where each went.
        out = self.rdkafka("roundtrip", "codec-keyed", codec="lz4", count=10000,
                           partitions=PARTITIONS, partitioner="key", acks="1", create=not MOCK)
        self.assertIn("OK roundtrip", out.stdout)

    def test_none(self):
        self.check_codec("none")

    def test_gzip(self):
        self.check_codec("gzip")

    def test_snappy(self):
        self.check_codec("snappy")

    def test_lz4(self):
        self.check_codec("lz4")

    def test_zstd(self):
        self.check_codec("zstd")


if __name__ == "__main__":
    unittest.main()
