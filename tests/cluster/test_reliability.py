"""Issue 19's drills on the real stack: faults production will bring, each with a writer (or
buyers) recording every acknowledged commit. The long repetitions are `make drills`
(bench/failover.py); these are one trial each."""

from __future__ import annotations

import time

from bazaar import drill
from bazaar.stack import etcd
from tests.cluster.conftest import StackUnderTest
from tests.cluster.test_cluster import wait_healthy


def test_losing_etcd_stops_no_write_and_makes_no_second_leader(stack: StackUnderTest) -> None:
    roles = wait_healthy(stack)
    cluster = stack.cluster()
    assert sorted(etcd.status(cluster.ports)) == list(etcd.MEMBERS)
    with drill.Writer(stack.drill_dsn("pgbouncer")) as writer:
        writer.wait_for_acks_after(time.monotonic(), 20, 30)
        result = drill.lose_dcs(cluster, writer)
    present = drill.stored(stack.local.admin_dsn(drill.DRILL_DATABASE), writer.run)
    outcome = drill.outcome(writer, result["at_monotonic"], present)
    # one member lost: a quorum is left; all three: failsafe_mode keeps the leader writing
    assert outcome.errors == 0 and outcome.lost == 0, writer.failed()
    assert result["dcs_lost_s"] > 20  # longer than ttl: without failsafe the leader would have demoted
    assert set(result["most_writable"].values()) == {1}, result  # never a second leader
    assert (
        result["leader_before"]
        == result["leader_after"]
        == next(n for n, r in roles.items() if r == "leader")
    )
    assert sorted(etcd.status(cluster.ports)) == list(etcd.MEMBERS)  # all three back, no human
