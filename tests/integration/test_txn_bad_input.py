"""Transaction requests Kafka refuses, sent by hand over raw sockets (raw_txn.py): each must
get the error code an Apache Kafka 3.7 broker gives (TransactionCoordinator.scala, KafkaApis
.scala, Errors.java at 3.7.0), in the classic versions and in flexible ones. Then transactional
Produce and read_committed Fetch on the wire, the coordinator's timeout abort, malformed
bodies for every transaction API, and a clean transaction at the end."""
import socket
import time
import unittest

from gregor_harness import SLOW, BrokerTestCase, wait_until
from raw_kafka import read_frame, record_batch
from raw_txn import (ADD_OFFSETS_TO_TXN, ADD_PARTITIONS_TO_TXN, CONCURRENT_TRANSACTIONS,
                     END_TXN, FIND_COORDINATOR, INIT_PRODUCER_ID, INVALID_PRODUCER_EPOCH,
                     INVALID_PRODUCER_ID_MAPPING, INVALID_REQUEST, INVALID_TRANSACTION_TIMEOUT,
                     INVALID_TXN_STATE, NONE, OPERATION_NOT_ATTEMPTED, PRODUCER_FENCED,
                     READ_COMMITTED, READ_UNCOMMITTED, RETRIABLE, TXN_OFFSET_COMMIT,
                     UNKNOWN_TOPIC_OR_PARTITION, TxnClient, flexible, raw_request,
                     txn_batch, valid_bodies)

MAX_TIMEOUT_MS = 300000


def answer_then_close(sock, timeout):
    """(bytes received, whether the peer closed) within timeout."""
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        except socket.timeout:
            break
        if not chunk:
            return data, True
        data += chunk
    return data, False


class TxnBadInput(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {
        "transaction.max.timeout.ms": str(MAX_TIMEOUT_MS),
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "100",
        "group.initial.rebalance.delay.ms": "0",
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            # The coordinators may load their topics after the port opens.
            with TxnClient(cls.broker.port, timeout=10 * SLOW) as c:
                wait_until(lambda: c.init_producer_id("probe")[0] == NONE, 30,
                           "the transaction coordinator to answer InitProducerId")
        except BaseException:
            cls.broker.cleanup()
            raise

    def setUp(self):
        self.c = TxnClient(self.broker.port, timeout=10 * SLOW)

    def tearDown(self):
        self.c.close()
        self.assert_broker_alive()
        super().tearDown()

    # ---- helpers ------------------------------------------------------------------------------

    def init(self, tid, timeout_ms=60000, version=1):
        """InitProducerId until it is not a retriable answer: (producer_id, epoch)."""
        def attempt():
            r = self.c.init_producer_id(tid, timeout_ms, version)
            return None if r[0] in RETRIABLE else r
        err, pid, epoch = wait_until(attempt, 20, f"InitProducerId({tid})")
        self.assertEqual(err, NONE, f"InitProducerId({tid})")
        self.assertGreaterEqual(pid, 0)
        return pid, epoch

    def end(self, tid, pid, epoch, commit, version=1):
        """EndTxn, retried while it answers CONCURRENT_TRANSACTIONS (Kafka answers that while
        the markers of an earlier end are still being written)."""
        def attempt():
            err = self.c.end_txn(tid, pid, epoch, commit, version)
            return None if err == CONCURRENT_TRANSACTIONS else (err,)
        return wait_until(attempt, 20, f"EndTxn({tid})")[0]

    def add(self, tid, pid, epoch, partitions, version=1):
        res = self.c.add_partitions(tid, pid, epoch, partitions, version)
        self.assertEqual(res, {(t, p): NONE for t, ps in partitions.items() for p in ps})

    def produce_txn(self, tid, topic, pid, epoch, values, seq=0, partition=0):
        return self.c.produce(topic, partition, txn_batch(values, pid, epoch, seq),
                              transactional_id=tid)

    def fetch(self, topic, offset, isolation=READ_COMMITTED, version=4, partition=0):
        r = self.c.fetch(topic, partition, offset, isolation=isolation, version=version)
        self.assertEqual(r["error"], NONE, r)
        return r

    def wait_stable(self, topic, partitions=(0,)):
        """Waits until no transaction is open on the partitions (last stable offset = high
        watermark): EndTxn is answered once the decision is durable, as in Kafka, and the
        markers follow."""
        def stable(p):
            r = self.fetch(topic, 0, partition=p)
            return r["last_stable_offset"] == r["high_watermark"]
        for p in partitions:
            wait_until(lambda: stable(p), 10, f"the markers on {topic}-{p}")

    # ---- FindCoordinator ----------------------------------------------------------------------

    def test_find_coordinator_for_transactional_id(self):
        from confluent_kafka.admin import AdminClient
        md = AdminClient({"bootstrap.servers": self.broker.bootstrap}).list_topics(timeout=10 * SLOW)
        (node_id,) = md.brokers.keys()
        for version in (1, 2, 3):  # v3 is flexible
            r = self.c.find_coordinator("fc-txn-id", key_type=1, version=version)
            self.assertEqual(r, {"error": NONE, "node_id": node_id, "host": "127.0.0.1",
                                 "port": self.broker.port}, f"v{version}")
        # CoordinatorType.forId throws InvalidRequestException; the error response of v0-3
        # carries Node.noNode() (-1, "", -1).
        for version, key_type in ((1, 2), (1, -1), (3, 7)):
            r = self.c.find_coordinator("fc-txn-id", key_type=key_type, version=version)
            self.assertEqual(r, {"error": INVALID_REQUEST, "node_id": -1, "host": "",
                                 "port": -1}, f"v{version} key_type {key_type}")

    # ---- InitProducerId -----------------------------------------------------------------------

    def test_init_producer_id_bumps_the_epoch(self):
        pid, epoch = self.init("ipid-bump")
        self.assertEqual(epoch, 0)
        pid2, epoch2 = self.init("ipid-bump")
        self.assertEqual((pid2, epoch2), (pid, 1))
        # The bump fenced epoch 0.
        self.create_topic("ipid-bump", 1)
        self.assertEqual(self.c.add_partitions("ipid-bump", pid, 0, {"ipid-bump": [0]}),
                         {("ipid-bump", 0): INVALID_PRODUCER_EPOCH})
        # v4 (flexible) with the current producer id and epoch bumps it once more; the same
        # request again is a retry whose answer was lost (the epoch stays).
        self.assertEqual(self.c.init_producer_id("ipid-bump", 60000, 4, pid, 1), (NONE, pid, 2))
        self.assertEqual(self.c.init_producer_id("ipid-bump", 60000, 4, pid, 1), (NONE, pid, 2))
        # An epoch older than that: PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before.
        self.assertEqual(self.c.init_producer_id("ipid-bump", 60000, 4, pid, 0),
                         (PRODUCER_FENCED, -1, -1))
        self.assertEqual(self.c.init_producer_id("ipid-bump", 60000, 3, pid, 0),
                         (INVALID_PRODUCER_EPOCH, -1, -1))
        # Another producer id than the transactional id's (isValidProducerId fails).
        self.assertEqual(self.c.init_producer_id("ipid-bump", 60000, 4, pid + 1000, 2),
                         (PRODUCER_FENCED, -1, -1))
        self.assertEqual(self.init("ipid-bump"), (pid, 3))

    def test_init_producer_id_with_half_an_expected_producer(self):
        pid, _ = self.init("ipid-half")
        # KafkaApis.handleInitProducerIdRequest: (NO_PRODUCER_ID, epoch) or (id, NO_EPOCH)
        # is INVALID_REQUEST.
        for version, expected_pid, expected_epoch in ((3, -1, 0), (4, -1, 0), (3, pid, -1),
                                                      (4, pid, -1)):
            with self.subTest(version=version, producer_id=expected_pid,
                              producer_epoch=expected_epoch):
                self.assertEqual(self.c.init_producer_id("ipid-half", 60000, version,
                                                         expected_pid, expected_epoch),
                                 (INVALID_REQUEST, -1, -1))

    def test_init_producer_id_transaction_timeout(self):
        for version in (1, 4):
            for timeout in (MAX_TIMEOUT_MS + 1, 0, -5):
                self.assertEqual(self.c.init_producer_id("ipid-timeout", timeout, version),
                                 (INVALID_TRANSACTION_TIMEOUT, -1, -1),
                                 f"v{version} timeout {timeout}")
        # The maximum itself is allowed.
        self.assertEqual(self.init("ipid-timeout", MAX_TIMEOUT_MS)[1], 0)

    # ---- EndTxn -------------------------------------------------------------------------------

    def test_end_txn_for_unknown_transactional_id(self):
        for version in (1, 3):
            self.assertEqual(self.c.end_txn("never-initialized", 12345, 0, True, version),
                             INVALID_PRODUCER_ID_MAPPING, f"v{version}")

    def test_end_txn_with_wrong_producer_id(self):
        self.create_topic("end-wrong-pid", 1)
        pid, epoch = self.init("end-wrong-pid")
        self.add("end-wrong-pid", pid, epoch, {"end-wrong-pid": [0]})
        for version in (1, 3):
            self.assertEqual(self.c.end_txn("end-wrong-pid", pid + 1000, epoch, True, version),
                             INVALID_PRODUCER_ID_MAPPING, f"v{version}")
        self.assertEqual(self.end("end-wrong-pid", pid, epoch, False), NONE)

    def test_end_txn_with_old_epoch(self):
        self.create_topic("end-old-epoch", 1)
        pid, _ = self.init("end-old-epoch")
        pid, epoch = self.init("end-old-epoch")
        self.assertEqual(epoch, 1)
        self.add("end-old-epoch", pid, epoch, {"end-old-epoch": [0]})
        # KafkaApis.handleEndTxnRequest: PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH
        # before v2.
        for version, want in ((0, INVALID_PRODUCER_EPOCH), (1, INVALID_PRODUCER_EPOCH),
                              (2, PRODUCER_FENCED), (3, PRODUCER_FENCED)):
            self.assertEqual(self.c.end_txn("end-old-epoch", pid, 0, True, version), want,
                             f"v{version}")
        # A newer epoch than the coordinator's is fenced too (strict equality from clients).
        self.assertEqual(self.c.end_txn("end-old-epoch", pid, 5, True, 3), PRODUCER_FENCED)
        # The fenced attempts changed nothing: the current epoch still ends it.
        self.assertEqual(self.end("end-old-epoch", pid, epoch, False), NONE)

    def test_end_txn_without_a_transaction(self):
        self.create_topic("end-states", 1)
        tid = "end-states"
        pid, epoch = self.init(tid)
        # State Empty: both commit and abort are INVALID_TXN_STATE.
        for version in (1, 3):
            self.assertEqual(self.c.end_txn(tid, pid, epoch, True, version), INVALID_TXN_STATE)
            self.assertEqual(self.c.end_txn(tid, pid, epoch, False, version), INVALID_TXN_STATE)
        # CompleteCommit: a commit again is a retry (NONE); an abort is INVALID_TXN_STATE.
        self.add(tid, pid, epoch, {"end-states": [0]})
        self.assertEqual(self.end(tid, pid, epoch, True), NONE)
        self.assertEqual(self.end(tid, pid, epoch, True), NONE)
        self.assertEqual(self.end(tid, pid, epoch, True, version=3), NONE)
        self.assertEqual(self.end(tid, pid, epoch, False), INVALID_TXN_STATE)
        # CompleteAbort: the mirror image.
        self.add(tid, pid, epoch, {"end-states": [0]})
        self.assertEqual(self.end(tid, pid, epoch, False), NONE)
        self.assertEqual(self.end(tid, pid, epoch, False), NONE)
        self.assertEqual(self.end(tid, pid, epoch, True), INVALID_TXN_STATE)

    # ---- AddPartitionsToTxn / AddOffsetsToTxn -------------------------------------------------

    def test_add_partitions_with_unknown_topic(self):
        self.create_topic("apt-known", 2)
        tid = "apt-unknown"
        pid, epoch = self.init(tid)
        for version in (1, 3):
            res = self.c.add_partitions(tid, pid, epoch, {"apt-known": [0, 1],
                                                          "apt-no-such-topic": [0]}, version)
            self.assertEqual(res, {("apt-known", 0): OPERATION_NOT_ATTEMPTED,
                                   ("apt-known", 1): OPERATION_NOT_ATTEMPTED,
                                   ("apt-no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION},
                             f"v{version}")
            # A partition the topic does not have is unknown too.
            res = self.c.add_partitions(tid, pid, epoch, {"apt-known": [1, 9]}, version)
            self.assertEqual(res, {("apt-known", 1): OPERATION_NOT_ATTEMPTED,
                                   ("apt-known", 9): UNKNOWN_TOPIC_OR_PARTITION})
        # Nothing was added, so no transaction started.
        self.assertEqual(self.c.end_txn(tid, pid, epoch, True), INVALID_TXN_STATE)
        self.assertEqual(self.c.end_txn(tid, pid, epoch, False), INVALID_TXN_STATE)

    def test_add_partitions_and_offsets_with_old_epoch(self):
        self.create_topic("apt-epoch", 1)
        tid = "apt-epoch"
        pid, _ = self.init(tid)
        pid, epoch = self.init(tid)
        for version, want in ((0, INVALID_PRODUCER_EPOCH), (1, INVALID_PRODUCER_EPOCH),
                              (2, PRODUCER_FENCED), (3, PRODUCER_FENCED)):
            self.assertEqual(self.c.add_partitions(tid, pid, 0, {"apt-epoch": [0]}, version),
                             {("apt-epoch", 0): want}, f"AddPartitionsToTxn v{version}")
            self.assertEqual(self.c.add_offsets(tid, pid, 0, "apt-epoch-group", version), want,
                             f"AddOffsetsToTxn v{version}")
        # Unknown transactional id / wrong producer id: INVALID_PRODUCER_ID_MAPPING.
        self.assertEqual(self.c.add_partitions("apt-never", pid, 0, {"apt-epoch": [0]}),
                         {("apt-epoch", 0): INVALID_PRODUCER_ID_MAPPING})
        self.assertEqual(self.c.add_offsets(tid, pid + 1000, epoch, "apt-epoch-group"),
                         INVALID_PRODUCER_ID_MAPPING)
        # None of it started a transaction.
        self.assertEqual(self.c.end_txn(tid, pid, epoch, False), INVALID_TXN_STATE)

    # ---- TxnOffsetCommit ----------------------------------------------------------------------

    def test_txn_offset_commit_for_unknown_topic(self):
        self.create_topic("toc-known", 1)
        tid, group = "toc-unknown", "toc-unknown-group"
        pid, epoch = self.init(tid)
        self.assertEqual(self.c.add_offsets(tid, pid, epoch, group), NONE)
        for version in (2, 3):
            res = self.c.txn_offset_commit(tid, group, pid, epoch,
                                           {("toc-no-such-topic", 0): 5, ("toc-known", 4): 1},
                                           version=version)
            self.assertEqual(res, {("toc-no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION,
                                   ("toc-known", 4): UNKNOWN_TOPIC_OR_PARTITION}, f"v{version}")
        res = self.c.txn_offset_commit(tid, group, pid, epoch,
                                       {("toc-no-such-topic", 1): 5, ("toc-known", 0): 1})
        self.assertEqual(res, {("toc-no-such-topic", 1): UNKNOWN_TOPIC_OR_PARTITION,
                               ("toc-known", 0): NONE})
        self.assertEqual(self.end(tid, pid, epoch, False), NONE)

    def test_txn_offset_commit_before_add_offsets(self):
        # Kafka 3.6+ verifies the group's __consumer_offsets partition is in the transaction
        # (transaction.partition.verification.enable, default true; GroupCoordinator
        # .handleTxnCommitOffsets -> TransactionCoordinator.handleVerifyPartitionsInTransaction
        # answers INVALID_TXN_STATE for a partition not in it).
        self.create_topic("toc-early", 1)
        tid = "toc-early"
        pid, epoch = self.init(tid)
        # In state Empty ...
        with self.subTest(state="Empty"):
            res = self.c.txn_offset_commit(tid, "toc-early-group-1", pid, epoch,
                                           {("toc-early", 0): 3})
            self.assertEqual(res, {("toc-early", 0): INVALID_TXN_STATE})
        # ... and in a transaction that holds a data partition but not the group's offsets.
        self.add(tid, pid, epoch, {"toc-early": [0]})
        with self.subTest(state="Ongoing without the group's offsets partition"):
            res = self.c.txn_offset_commit(tid, "toc-early-group-2", pid, epoch,
                                           {("toc-early", 0): 3}, version=3)
            self.assertEqual(res, {("toc-early", 0): INVALID_TXN_STATE})
        self.assertEqual(self.end(tid, pid, epoch, False), NONE)

    # ---- transactional Produce and read_committed Fetch ---------------------------------------

    def test_transactional_produce_then_abort(self):
        topic, tid = "txp-abort", "txp-abort"
        self.create_topic(topic, 1)
        self.assertEqual(self.c.produce(topic, 0, record_batch([b"plain"])), (NONE, 0))
        pid, epoch = self.init(tid)
        self.add(tid, pid, epoch, {topic: [0]})
        self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"t0", b"t1", b"t2"]),
                         (NONE, 1))

        # Open transaction: the last stable offset is its first offset.
        for version in (4, 11):
            r = self.fetch(topic, 0, version=version)
            self.assertEqual((r["high_watermark"], r["last_stable_offset"]), (4, 1), r)
            self.assertEqual([(b["base_offset"], b["records"]) for b in r["batches"]],
                             [(0, [(None, b"plain")])], f"v{version}: records past the LSO")
            self.assertEqual(r["aborted"], [])
            r = self.fetch(topic, 1, version=version)
            self.assertEqual((r["last_stable_offset"], r["batches"]), (1, []), r)
        r = self.fetch(topic, 0, isolation=READ_UNCOMMITTED)
        self.assertEqual([b["base_offset"] for b in r["batches"]], [0, 1])
        self.assertEqual((r["last_stable_offset"], r["aborted"]), (1, None))
        self.assertEqual(self.c.list_offsets(topic, 0, isolation=READ_COMMITTED), (NONE, 1))
        self.assertEqual(self.c.list_offsets(topic, 0, isolation=READ_UNCOMMITTED), (NONE, 4))

        self.assertEqual(self.end(tid, pid, epoch, False), NONE)
        self.wait_stable(topic)
        for version in (4, 11):
            r = self.fetch(topic, 0, version=version)
            self.assertEqual((r["high_watermark"], r["last_stable_offset"]), (5, 5), r)
            self.assertEqual(r["aborted"], [(pid, 1)], f"v{version}")
            b = r["batches"]
            self.assertEqual([(x["base_offset"], x["last_offset"], x["transactional"],
                               x["control"], x.get("marker")) for x in b],
                             [(0, 0, False, False, None), (1, 3, True, False, None),
                              (4, 4, True, True, "abort")])
            self.assertEqual((b[2]["producer_id"], b[2]["producer_epoch"]), (pid, epoch))
            self.assertTrue(all(x["crc_ok"] for x in b))
        self.assertIsNone(self.fetch(topic, 0, isolation=READ_UNCOMMITTED)["aborted"])
        self.assertEqual(self.c.list_offsets(topic, 0, isolation=READ_COMMITTED), (NONE, 5))

    def test_transactional_produce_then_commit(self):
        topic, tid = "txp-commit", "txp-commit"
        self.create_topic(topic, 2)
        pid, epoch = self.init(tid)
        self.add(tid, pid, epoch, {topic: [0, 1]})
        self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"a", b"b"]), (NONE, 0))
        self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"c"], seq=2), (NONE, 2))
        self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"d"], partition=1),
                         (NONE, 0))
        self.assertEqual(self.fetch(topic, 0)["last_stable_offset"], 0)
        self.assertEqual(self.end(tid, pid, epoch, True, version=3), NONE)
        self.wait_stable(topic, (0, 1))
        for p, hw, values in ((0, 4, [b"a", b"b", b"c"]), (1, 2, [b"d"])):
            r = self.fetch(topic, 0, partition=p)
            self.assertEqual((r["high_watermark"], r["last_stable_offset"], r["aborted"]),
                             (hw, hw, []), f"partition {p}")
            data = [v for b in r["batches"] if not b["control"] for _k, v in b["records"]]
            self.assertEqual(data, values)
            self.assertEqual([(b["base_offset"], b.get("marker")) for b in r["batches"]
                              if b["control"]], [(hw - 1, "commit")])

    def test_transactional_produce_outside_the_transaction(self):
        # Kafka 3.6+ (transaction.partition.verification.enable=true) refuses a transactional
        # batch to a partition that was not added: INVALID_TXN_STATE ("Partition was not added
        # to the transaction", ReplicaManager.appendRecords).
        topic, tid = "txp-outside", "txp-outside"
        self.create_topic(topic, 2)
        pid, epoch = self.init(tid)
        self.add(tid, pid, epoch, {topic: [0]})
        try:
            self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"x"], partition=1)[0],
                             INVALID_TXN_STATE)
        finally:
            self.assertEqual(self.end(tid, pid, epoch, False), NONE)
        r = self.fetch(topic, 0, partition=1)
        self.assertEqual((r["high_watermark"], r["last_stable_offset"]), (0, 0),
                         "a hanging transaction on partition 1")

    def test_transaction_timeout_aborts_and_fences(self):
        topic, tid = "txp-timeout", "txp-timeout"
        self.create_topic(topic, 1)
        pid, epoch = self.init(tid, timeout_ms=1000)
        self.add(tid, pid, epoch, {topic: [0]})
        self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"late1", b"late2"]),
                         (NONE, 0))
        self.assertEqual(self.fetch(topic, 0)["last_stable_offset"], 0)

        def aborted():
            r = self.fetch(topic, 0)
            return r if r["last_stable_offset"] == 3 else None
        r = wait_until(aborted, 15, "the coordinator to abort the timed-out transaction")
        self.assertEqual(r["high_watermark"], 3)
        self.assertEqual(r["aborted"], [(pid, 0)])
        marker = r["batches"][-1]
        self.assertEqual((marker["base_offset"], marker.get("marker")), (2, "abort"))
        # The abort bumped the epoch (prepareFenceProducerEpoch), fencing the producer.
        self.assertEqual((marker["producer_id"], marker["producer_epoch"]), (pid, epoch + 1))

        self.assertEqual(self.c.end_txn(tid, pid, epoch, True, 1), INVALID_PRODUCER_EPOCH)
        self.assertEqual(self.c.end_txn(tid, pid, epoch, True, 3), PRODUCER_FENCED)
        self.assertEqual(self.c.add_partitions(tid, pid, epoch, {topic: [0]}, 1),
                         {(topic, 0): INVALID_PRODUCER_EPOCH})
        # The old epoch's records are refused by the partition too.
        self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"zombie"], seq=2)[0],
                         INVALID_PRODUCER_EPOCH)
        # A new instance gets the epoch after the fence.
        self.assertEqual(self.init(tid), (pid, epoch + 2))

    # ---- malformed bodies ---------------------------------------------------------------------

    def test_truncated_bodies_close_only_that_connection(self):
        names = {FIND_COORDINATOR: "FindCoordinator", INIT_PRODUCER_ID: "InitProducerId",
                 ADD_PARTITIONS_TO_TXN: "AddPartitionsToTxn",
                 ADD_OFFSETS_TO_TXN: "AddOffsetsToTxn", END_TXN: "EndTxn",
                 TXN_OFFSET_COMMIT: "TxnOffsetCommit"}
        # Opened before the bad requests and used after each of them.
        keep = TxnClient(self.broker.port, timeout=10 * SLOW)
        try:
            for (api, version), body in valid_bodies().items():
                # A length that runs past the end: classic int16 / compact uvarint strings.
                # (Every one of these bodies starts with a string.)
                oversized = (b"\xff\xff\x01" if flexible(api, version) else b"\x7f\xff") + b"ab"
                cuts = {"header only": b"", "one byte": body[:1], "half": body[:len(body) // 2],
                        "all but the last byte": body[:-1], "oversized string": oversized}
                for what, cut in cuts.items():
                    label = f"{names[api]} v{version}, {what}"
                    with socket.create_connection(("127.0.0.1", self.broker.port),
                                                  timeout=10) as bad:
                        bad.sendall(raw_request(api, version, cut))
                        self.assertEqual(answer_then_close(bad, 10 * SLOW), (b"", True),
                                         f"{label}: want a close without an answer")
                    self.assert_broker_alive()
                    r = keep.find_coordinator("still-here", key_type=1, version=1)
                    self.assertEqual(r["error"], NONE, label)
        finally:
            keep.close()
        # The complete bodies are fine on a new connection (the tests above were about the
        # cut, not the content).
        with socket.create_connection(("127.0.0.1", self.broker.port), timeout=10) as s:
            for (api, version), body in valid_bodies().items():
                s.sendall(raw_request(api, version, body, corr_id=5))
                self.assertGreater(len(read_frame(s, 10 * SLOW)), 4, f"{api} v{version}")

    # ---- last: nothing above harmed the coordinators ------------------------------------------

    def test_zz_clean_transaction_still_works(self):
        from confluent_kafka import Consumer, TopicPartition
        topic, tid, group = "txn-clean", "txn-clean", "txn-clean-group"
        self.create_topic(topic, 1)
        pid, epoch = self.init(tid, version=4)
        self.assertEqual(epoch, 0)
        self.add(tid, pid, epoch, {topic: [0]}, version=3)
        self.assertEqual(self.produce_txn(tid, topic, pid, epoch, [b"one", b"two"]), (NONE, 0))
        self.assertEqual(self.c.add_offsets(tid, pid, epoch, group, version=3), NONE)
        self.assertEqual(self.c.txn_offset_commit(tid, group, pid, epoch, {(topic, 0): 2},
                                                  version=3), {(topic, 0): NONE})
        self.assertEqual(self.end(tid, pid, epoch, True, version=3), NONE)
        self.wait_stable(topic)
        r = self.fetch(topic, 0)
        self.assertEqual((r["high_watermark"], r["last_stable_offset"], r["aborted"]),
                         (3, 3, []))
        self.assertEqual([v for b in r["batches"] if not b["control"] for _k, v in b["records"]],
                         [b"one", b"two"])
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": group,
                      "enable.auto.commit": False})
        try:
            (tp,) = c.committed([TopicPartition(topic, 0)], timeout=10 * SLOW)
        finally:
            c.close()
        self.assertEqual((tp.offset, tp.error), (2, None))


if __name__ == "__main__":
    unittest.main()
