"""`bazaar generate` through the cluster: it loads through HAProxy's read-write port (the leader),
the replicas receive it, and the loaded data passes the integrity checks there."""

from __future__ import annotations

import time

from tests.cluster.conftest import StackUnderTest


def test_generate_loads_through_the_leader_and_replicas_follow(stack: StackUnderTest) -> None:
    # --truncate: tests/cluster/test_backup.py loaded data of its own before
    result = stack.bazaar_json("generate", "--scale", "0.002", "--seed", "3", "--truncate")
    assert result["generated"] is True
    users = next(s["rows"] for s in result["steps"] if s["step"] == "users")
    assert users == 200
    deadline = time.monotonic() + 30
    with stack.connect(stack.local.read_only_dsn("postgres")) as replica:
        assert replica.execute("select pg_is_in_recovery()").fetchone() == (True,)
        while (seen := replica.execute("select count(*) from core.users").fetchone()) != (users,):
            assert time.monotonic() < deadline, f"the replica has {seen} users, not {users}"
            time.sleep(0.2)
    check = stack.bazaar("generate", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    again = stack.bazaar("generate", "--scale", "0.002")
    assert again.returncode == 6
    assert "already holds data" in again.stderr
