"""Group requests Kafka refuses, sent by hand over raw sockets: each must get the error code a
Kafka 3.x broker (the classic group coordinator) gives, and the broker must stay up."""
import unittest

from gregor_harness import BrokerTestCase
from group_helpers import (GROUP_BROKER_OVERRIDES, ILLEGAL_GENERATION,
                           INCONSISTENT_GROUP_PROTOCOL, MEMBER_ID_REQUIRED, NONE,
                           UNKNOWN_MEMBER_ID, UNKNOWN_TOPIC_OR_PARTITION, RawGroupClient,
                           consumer_subscription)


class GroupBadInput(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = GROUP_BROKER_OVERRIDES

    def setUp(self):
        self.client = RawGroupClient(self.broker.port)
        self.client.wait_coordinator("bad-input-probe")

    def tearDown(self):
        self.client.close()
        self.assert_broker_alive()
        super().tearDown()

    def join_known(self, group, **kw):
        """JoinGroup v4 twice (MEMBER_ID_REQUIRED, then with the given id): the join answer."""
        first = self.client.join(group, version=4, **kw)
        self.assertEqual(first["error"], MEMBER_ID_REQUIRED, first)
        joined = self.client.join(group, member_id=first["member_id"], version=4, **kw)
        self.assertEqual(joined["error"], NONE, joined)
        return joined

    def test_join_v4_empty_member_id_gets_member_id_required(self):
        r = self.client.join("g-member-required", version=4)
        self.assertEqual(r["error"], MEMBER_ID_REQUIRED, r)
        self.assertTrue(r["member_id"], "MEMBER_ID_REQUIRED must carry the member id to use")
        self.assertEqual(r["generation"], -1)
        # The id works: the second join is accepted and this member leads generation 1.
        r2 = self.client.join("g-member-required", member_id=r["member_id"], version=4)
        self.assertEqual(r2["error"], NONE, r2)
        self.assertEqual((r2["member_id"], r2["leader"]), (r["member_id"], r["member_id"]))
        self.assertEqual(r2["generation"], 1)

    def test_join_v3_empty_member_id_is_assigned_directly(self):
        r = self.client.join("g-v3", version=3)
        self.assertEqual(r["error"], NONE, r)
        self.assertTrue(r["member_id"])

    def test_join_with_empty_protocol_type(self):
        r = self.client.join("g-empty-type", protocol_type="", version=3)
        self.assertEqual(r["error"], INCONSISTENT_GROUP_PROTOCOL, r)

    def test_join_with_no_protocols(self):
        r = self.client.join("g-no-protocols", protocols=[], version=3)
        self.assertEqual(r["error"], INCONSISTENT_GROUP_PROTOCOL, r)

    def test_join_with_other_protocol_type_than_the_group(self):
        self.join_known("g-mixed-type")
        other = RawGroupClient(self.broker.port)
        try:
            r = other.join("g-mixed-type", protocol_type="connect", version=3,
                           protocols=[("default", b"\x00")])
        finally:
            other.close()
        self.assertEqual(r["error"], INCONSISTENT_GROUP_PROTOCOL, r)

    def test_join_with_no_common_protocol(self):
        self.join_known("g-no-common", protocols=[("range", consumer_subscription(["t"]))])
        other = RawGroupClient(self.broker.port)
        try:
            r = other.join("g-no-common", version=3,
                           protocols=[("roundrobin", consumer_subscription(["t"]))])
        finally:
            other.close()
        self.assertEqual(r["error"], INCONSISTENT_GROUP_PROTOCOL, r)

    def test_sync_with_wrong_generation(self):
        j = self.join_known("g-sync-gen")
        err, _ = self.client.sync("g-sync-gen", j["generation"] + 5, j["member_id"],
                                  [(j["member_id"], b"")])
        self.assertEqual(err, ILLEGAL_GENERATION)
        # The right generation still completes the rebalance.
        err, assignment = self.client.sync("g-sync-gen", j["generation"], j["member_id"],
                                           [(j["member_id"], b"abc")])
        self.assertEqual((err, assignment), (NONE, b"abc"))
        self.assertEqual(self.client.heartbeat("g-sync-gen", j["generation"], j["member_id"]),
                         NONE)
        self.assertEqual(self.client.heartbeat("g-sync-gen", j["generation"] - 1,
                                               j["member_id"]), ILLEGAL_GENERATION)

    def test_sync_unknown_member(self):
        j = self.join_known("g-sync-member")
        err, _ = self.client.sync("g-sync-member", j["generation"], "nobody-1234", [])
        self.assertEqual(err, UNKNOWN_MEMBER_ID)

    def test_heartbeat_for_missing_group(self):
        # Kafka 3.x GroupCoordinator.handleHeartbeat: no such group -> UNKNOWN_MEMBER_ID.
        err = self.client.heartbeat("g-never-created", 1, "some-member")
        self.assertEqual(err, UNKNOWN_MEMBER_ID)

    def test_offset_commit_to_missing_topic(self):
        res = self.client.offset_commit("g-commit-missing",
                                        {("no-such-topic", 0): 5, ("no-such-topic", 1): 6})
        self.assertEqual(res, {("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION,
                               ("no-such-topic", 1): UNKNOWN_TOPIC_OR_PARTITION})

    def test_offset_commit_to_missing_partition(self):
        self.create_topic("commit-bad-part", 2)
        res = self.client.offset_commit("g-commit-part",
                                        {("commit-bad-part", 1): 0, ("commit-bad-part", 7): 0})
        self.assertEqual(res, {("commit-bad-part", 1): NONE,
                               ("commit-bad-part", 7): UNKNOWN_TOPIC_OR_PARTITION})


if __name__ == "__main__":
    unittest.main()
