"""What only separate connections can show: many buyers racing for the last units, and delivery
workers racing for the outbox. Each test commits, in a database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bazaar import migrate
from tests.harness import SQL_DIR, ServerUnderTest
from tests.marketplace import call, part_on_sale, person, race


@pytest.fixture(scope="module")
def dsn(server: ServerUnderTest) -> Iterator[str]:
    with server.scratch_database() as scratch:
        with psycopg.connect(scratch, autocommit=True) as conn:
            migrate.migrate(conn, SQL_DIR)
            conn.execute("update core.settings set value = '4' where key = 'bcrypt_cost'")
        yield scratch


def app(dsn: str, role: str = "bazaar_app") -> psycopg.Connection[Any]:
    """A connection that acts as an application role, in autocommit like a pooled client."""
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(f"set role {role}".encode())
    return conn


def test_parallel_buyers_never_oversell(dsn: str) -> None:
    with app(dsn) as conn:
        seller, moderator = person(conn, "race_seller"), person(conn, "race_moderator")
        conn.execute("reset role")
        conn.execute("update core.users set role = 'moderator' where email = 'race_moderator@example.com'")
        conn.execute("set role bazaar_app")
        listing = part_on_sale(conn, seller, moderator, "Last pads", "LAST-5", 5)
        buyers = [person(conn, f"race_buyer_{i}") for i in range(16)]

    def buy(i: int) -> Any:
        with app(dsn) as c:
            # half order one unit, half order two: 24 units asked for, 5 in stock
            return call(c, "select order_id from api.create_order(%s, %s, %s)", buyers[i], listing, 1 + i % 2)

    outcomes = race(len(buyers), buy)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(e, psycopg.Error) and e.sqlstate == "55000" for e in errors), errors
    with psycopg.connect(dsn) as conn:
        quantity, reserved, status = conn.execute(
            "select quantity, reserved_quantity, status::text from core.listings where id = %s", [listing]
        ).fetchone() or (None, None, None)
        ordered = conn.execute(
            "select coalesce(sum(ol.quantity), 0) from core.orders as o join core.order_lines as ol "
            "on ol.order_id = o.id where ol.listing_id = %s and o.status = 'reserved'",
            [listing],
        ).fetchone()
    assert ordered is not None and ordered[0] == reserved
    # eight buyers ask for one unit each, so whatever the order the five units all go, and no more
    assert (quantity, reserved, status) == (5, 5, "reserved")
    assert len(outcomes) - len(errors) == len({o for o in outcomes if not isinstance(o, BaseException)})


def test_overlapping_checkouts_in_opposite_orders_never_deadlock_nor_oversell(dsn: str) -> None:
    with app(dsn) as conn:
        seller, moderator = person(conn, "cart_seller"), person(conn, "cart_moderator")
        other = person(conn, "cart_other_seller")
        conn.execute("reset role")
        conn.execute("update core.users set role = 'moderator' where email = 'cart_moderator@example.com'")
        conn.execute("set role bazaar_app")
        stock = []
        for i, owner in enumerate([seller, seller, other, other]):
            stock.append(part_on_sale(conn, owner, moderator, f"Cart pads {i}", f"CART-{i}", 4))
        buyers = [person(conn, f"cart_buyer_{i}") for i in range(12)]
        # every cart overlaps the others; half are filled in one order, half in the opposite one
        for i, buyer in enumerate(buyers):
            chosen = stock if i % 3 == 0 else stock[:3] if i % 3 == 1 else stock[1:]
            for listing in chosen if i % 2 == 0 else list(reversed(chosen)):
                call(conn, "select api.cart_add(%s, %s, 1)", buyer, listing)

    def checkout(i: int) -> Any:
        with app(dsn) as c:
            return [r[0] for r in c.execute("select order_id from api.checkout(%s)", [buyers[i]]).fetchall()]

    outcomes = race(len(buyers), checkout)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(e, psycopg.Error) and e.sqlstate == "55000" for e in errors), errors
    assert len(errors) < len(buyers), "no checkout succeeded"
    with psycopg.connect(dsn) as conn:
        for listing in stock:
            quantity, reserved = conn.execute(
                "select quantity, reserved_quantity from core.listings where id = %s", [listing]
            ).fetchone() or (None, None)
            held = conn.execute(
                "select coalesce(sum(ol.quantity), 0) from core.orders as o join core.order_lines as ol "
                "on ol.order_id = o.id where ol.listing_id = %s and o.status = 'reserved'",
                [listing],
            ).fetchone()
            assert held is not None and held[0] == reserved and reserved <= quantity == 4
        # all or nothing: a failed checkout left its whole cart, a successful one emptied it
        for i, outcome in enumerate(outcomes):
            left = conn.execute(
                "select count(*) from core.cart_items as c join core.users as u on u.id = c.buyer_id "
                "where u.email = %s",
                [f"cart_buyer_{i}@example.com"],
            ).fetchone()
            assert left is not None and (left[0] == 0) == (not isinstance(outcome, BaseException))


def test_a_checkout_retried_concurrently_with_its_key_returns_the_same_orders(dsn: str) -> None:
    with app(dsn) as conn:
        seller, moderator = person(conn, "retry_seller"), person(conn, "retry_moderator")
        conn.execute("reset role")
        conn.execute("update core.users set role = 'moderator' where email = 'retry_moderator@example.com'")
        conn.execute("set role bazaar_app")
        listing = part_on_sale(conn, seller, moderator, "Retry pads", "RETRY-1", 10)
        buyer = person(conn, "retry_buyer")
        call(conn, "select api.cart_add(%s, %s, 3)", buyer, listing)

    def checkout(_: int) -> Any:
        with app(dsn) as c:
            return c.execute("select order_id, created from api.checkout(%s, 'same-key')", [buyer]).fetchall()

    outcomes = race(4, checkout)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert len({tuple(r[0] for r in o) for o in outcomes}) == 1, "retries got different orders"
    assert sorted(o[0][1] for o in outcomes) == [False, False, False, True]
    with psycopg.connect(dsn) as conn:
        reserved = conn.execute(
            "select reserved_quantity from core.listings where id = %s", [listing]
        ).fetchone()
    assert reserved == (3,)


def test_two_workers_never_share_a_notification_and_a_lost_lease_is_redelivered(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        users = [r[0] for r in conn.execute(
            "insert into core.users (display_name, email, password_hash, notification_channels) "
            "select 'Reader ' || g, 'reader' || g || '@example.com', '$2a$04$' || repeat('a', 53), '{email}' "
            "from generate_series(1, 40) as g returning id").fetchall()]  # fmt: skip
        conn.execute("update core.notifications set delivered_at = now() where delivered_at is null")
        for round_ in range(3):
            conn.execute(
                "select core.notify(u, 'test', jsonb_build_object('round', %s::integer)) "
                "from unnest(%s::bigint[]) as u",
                [round_, users],
            )  # fmt: skip

    def claim(i: int) -> list[int]:
        with app(dsn, "bazaar_worker") as c:
            return [r[0] for r in c.execute("select notification_id from api.claim_notifications(%s, 30)",
                                            [f"worker-{i}"]).fetchall()]  # fmt: skip

    first, second = race(2, claim)
    assert isinstance(first, list) and isinstance(second, list)
    assert not set(first) & set(second), "two workers got the same notification"
    assert len(first) + len(second) == 40  # one per user: each user's first round only
    with psycopg.connect(dsn, autocommit=True) as conn:
        rounds = conn.execute(
            "select distinct payload ->> 'round' from core.notifications where id = any(%s)", [first + second]
        ).fetchall()
        assert rounds == [("0",)], "a user's later notification went out before an earlier one"
        # worker-0 acknowledges its batch; worker-1 "crashes": its lease runs out
        conn.execute("set role bazaar_worker")
        for nid in first:
            conn.execute("select api.ack_notification(%s, 'worker-0')", [nid])
        conn.execute("reset role")
        conn.execute("update core.notifications set claimed_until = now() - interval '1 second' "
                     "where claimed_by = 'worker-1' and delivered_at is null")  # fmt: skip
    again = claim(2)
    assert set(second) <= set(again), "the crashed worker's batch was not redelivered"
    with app(dsn, "bazaar_worker") as c:
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            c.execute("select api.ack_notification(%s, 'worker-1')", [second[0]])  # its lease is gone
        c.execute("select api.ack_notification(%s, 'worker-2')", [second[0]])


def test_listen_wakes_a_worker_when_notifications_are_queued(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as listener, psycopg.connect(dsn, autocommit=True) as writer:
        listener.execute("listen bazaar_outbox")
        user = writer.execute("select id from core.users order by id limit 1").fetchone()
        assert user is not None
        writer.execute("select core.notify(%s, 'wake_test', '{}')", [user[0]])
        woken = next(listener.notifies(timeout=10, stop_after=1), None)
        assert woken is not None and woken.channel == "bazaar_outbox"


def test_two_admins_demoting_themselves_at_once_leave_one_admin(dsn: str) -> None:
    with app(dsn) as conn:
        tokens = [person(conn, f"twin_admin_{i}") for i in range(2)]
        conn.execute("reset role")
        conn.execute("update core.users set role = 'user' where role = 'admin'")
        conn.execute("update core.users set role = 'admin' where email like 'twin_admin_%'")
        ids = [
            call(conn, "select id from core.users where email = %s", f"twin_admin_{i}@example.com")
            for i in range(2)
        ]

    def demote_myself(i: int) -> Any:
        with app(dsn) as c:
            return call(c, "select api.set_user_role(%s, %s, 'user')", tokens[i], ids[i])

    outcomes = race(2, demote_myself)
    refused = [o for o in outcomes if isinstance(o, psycopg.Error)]
    assert [e.sqlstate for e in refused] == ["55000"], outcomes
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select count(*) from core.users where role = 'admin'").fetchone() == (1,)


def test_the_scheduled_matching_commits_listing_by_listing_and_drains_the_queue(dsn: str) -> None:
    """What pg_cron runs, for real: CALL outside a transaction, a commit per listing."""
    with app(dsn) as conn, psycopg.connect(dsn, autocommit=True) as admin:
        watcher, seller = person(conn, "watcher_m"), person(conn, "seller_m")
        moderator = person(conn, "moderator_m")
        admin.execute("update core.users set role = 'moderator' where email = 'moderator_m@example.com'")
        call(conn, "select api.save_search(%s, 'parts', null, '{\"kind\": \"part\"}')", watcher)
        category = call(admin, "select id from core.categories where slug = 'brake-pads'")
        listings = []
        for n in range(3):
            listing = call(
                conn,
                "select api.create_listing(%s, 'part', %s, %s, 1000, 'Москва', 'Москва', "
                "'{\"part_number\": \"1\", \"condition\": \"new\"}')",
                seller, category, f"Колодки {n}",
            )  # fmt: skip
            call(conn, "select api.submit_listing(%s, %s)", seller, listing)
            call(conn, "select api.approve_listing(%s, %s)", moderator, listing)
            listings.append(listing)
        admin.execute("call ops.run_saved_search_matching()")
        assert (
            call(admin, "select count(*) from core.saved_search_queue where listing_id = any(%s)", listings)
            == 0
        )
        notified = call(
            admin,
            "select count(distinct (n.payload ->> 'listing_id')) from core.notifications as n "
            "join core.users as u on u.id = n.user_id "
            "where u.email = 'watcher_m@example.com' and n.kind = 'saved_search_match' "
            "and (n.payload ->> 'listing_id')::bigint = any(%s)",  # other tests' listings match too
            listings,
        )
        assert notified == 3
