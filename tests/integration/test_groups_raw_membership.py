"""Membership rules of the classic group protocol driven by hand over raw sockets, with the
answers a Kafka 3.x coordinator gives: rebalance in progress, session expiry, static member
fencing, batched LeaveGroup and session timeout bounds."""
import time
import unittest

from gregor_harness import SLOW, BrokerTestCase
from group_helpers import (FENCED_INSTANCE_ID, GROUP_BROKER_OVERRIDES, ILLEGAL_GENERATION,
                           INVALID_SESSION_TIMEOUT, NONE, REBALANCE_IN_PROGRESS,
                           UNKNOWN_MEMBER_ID, RawGroupClient)


class RawMembership(BrokerTestCase):
    needs_real_broker = True
    broker_overrides = {**GROUP_BROKER_OVERRIDES, "group.max.session.timeout.ms": "60000"}

    def setUp(self):
        self.clients = []
        self.client().wait_coordinator("raw-membership-probe")

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.assert_broker_alive()
        super().tearDown()

    def client(self):
        c = RawGroupClient(self.broker.port, timeout=20.0 * SLOW)
        self.clients.append(c)
        return c

    def stable_member(self, group, **kw):
        """A one-member group, joined (v3) and synced: (client, join answer)."""
        c = self.client()
        j = c.join(group, version=3, **kw)
        self.assertEqual(j["error"], NONE, j)
        err, _ = c.sync(group, j["generation"], j["member_id"], [(j["member_id"], b"a")])
        self.assertEqual(err, NONE)
        return c, j

    def test_heartbeat_during_rebalance_then_rejoin(self):
        a, ja = self.stable_member("g-rip")
        b = self.client()
        b.send_join("g-rip", version=3)  # answered only when the rebalance completes
        deadline = time.monotonic() + 10 * SLOW
        while True:
            err = a.heartbeat("g-rip", ja["generation"], ja["member_id"])
            if err == REBALANCE_IN_PROGRESS or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(err, REBALANCE_IN_PROGRESS)
        ja2 = a.join("g-rip", member_id=ja["member_id"], version=3)
        jb = b.receive_join(3)
        self.assertEqual((ja2["error"], jb["error"]), (NONE, NONE))
        self.assertEqual(ja2["generation"], ja["generation"] + 1)
        self.assertEqual(jb["generation"], ja2["generation"])
        # The leader (the old member) gets both members' metadata; the follower none.
        self.assertEqual(ja2["leader"], ja["member_id"])
        self.assertEqual(sorted(ja2["members"]), sorted([ja["member_id"], jb["member_id"]]))
        self.assertEqual(jb["members"], [])
        # The stale generation is fenced; the leader's sync hands each member its bytes.
        self.assertEqual(a.heartbeat("g-rip", ja["generation"], ja["member_id"]),
                         ILLEGAL_GENERATION)
        gen = ja2["generation"]
        err, mine = a.sync("g-rip", gen, ja["member_id"],
                           [(ja["member_id"], b"for-a"), (jb["member_id"], b"for-b")])
        self.assertEqual((err, mine), (NONE, b"for-a"))
        err, theirs = b.sync("g-rip", gen, jb["member_id"])
        self.assertEqual((err, theirs), (NONE, b"for-b"))

    def test_session_expiry_removes_member(self):
        c, j = self.stable_member("g-expire", session_ms=1000, rebalance_ms=1000)
        self.assertEqual(c.heartbeat("g-expire", j["generation"], j["member_id"]), NONE)
        time.sleep(2.5 * SLOW)
        self.assertEqual(c.heartbeat("g-expire", j["generation"], j["member_id"]),
                         UNKNOWN_MEMBER_ID)

    def test_session_timeout_bounds(self):
        c = self.client()
        self.assertEqual(c.join("g-bounds", session_ms=500)["error"], INVALID_SESSION_TIMEOUT)
        self.assertEqual(c.join("g-bounds", session_ms=120000)["error"],
                         INVALID_SESSION_TIMEOUT)

    def test_static_member_replaced_and_old_id_fenced(self):
        old = self.client()
        j1 = old.join("g-static-raw", version=5, instance_id="inst-a")
        self.assertEqual(j1["error"], NONE, j1)  # static members need no MEMBER_ID_REQUIRED
        err, _ = old.sync("g-static-raw", j1["generation"], j1["member_id"],
                          [(j1["member_id"], b"x")], version=3, instance_id="inst-a")
        self.assertEqual(err, NONE)

        new = self.client()
        j2 = new.join("g-static-raw", version=5, instance_id="inst-a")
        self.assertEqual(j2["error"], NONE, j2)
        self.assertNotEqual(j2["member_id"], j1["member_id"])
        self.assertEqual(j2["generation"], j1["generation"], "no rebalance for a static rejoin")
        err, assignment = new.sync("g-static-raw", j2["generation"], j2["member_id"],
                                   version=3, instance_id="inst-a")
        self.assertEqual((err, assignment), (NONE, b"x"))
        self.assertEqual(old.heartbeat("g-static-raw", j1["generation"], j1["member_id"],
                                       version=3, instance_id="inst-a"), FENCED_INSTANCE_ID)
        self.assertEqual(new.heartbeat("g-static-raw", j2["generation"], j2["member_id"],
                                       version=3, instance_id="inst-a"), NONE)

    def test_batched_leave(self):
        c, j = self.stable_member("g-leave")
        err, errors = c.leave("g-leave", [(j["member_id"], None), ("ghost-1", None)])
        self.assertEqual((err, errors), (NONE, [NONE, UNKNOWN_MEMBER_ID]))
        self.assertEqual(c.heartbeat("g-leave", j["generation"], j["member_id"]),
                         UNKNOWN_MEMBER_ID)


if __name__ == "__main__":
    unittest.main()
