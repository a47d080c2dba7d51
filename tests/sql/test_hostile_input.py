"""Regression tests of the hostile-input probe (issue 12): each reproduction, as the application
calls it, and the guard that closes its class. tests/fuzz covers the class as a whole."""

from __future__ import annotations

import unicodedata
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.harness import as_role
from tests.sql.conftest import (
    CAR_ATTRIBUTES,
    PASSWORD,
    Api,
    Listings,
    MakeUser,
    User,
    match_saved_searches,
    unique_phone,
)

Conn = psycopg.Connection[Any]


def count(db: Conn, query: str, *params: Any) -> int:
    row = db.execute(query.encode(), params).fetchone()
    assert row is not None
    return int(row[0])


# -- 1. one saved search stopped every approval ---------------------------------------------------


def test_a_hostile_saved_search_is_normalised_and_approvals_go_on(
    api: Api, db: Conn, listings: Listings, user: User, make_user: MakeUser, moderator: User
) -> None:
    saved = api.one("save_search", user.token, "x", "колодки " + "-" * 40)
    assert api.rows("saved_searches", user.token)[0][2] == "колодки"  # stored as search reads it
    # a run of minuses is one NOT, as websearch syntax reads "- word": the meaning is kept
    api.one("save_search", user.token, "y", "-" * 40 + " лампы")
    assert api.rows("saved_searches", user.token)[1][2] == "-лампы"
    api.fails("22023", "save_search", user.token, "x", "-" * 201)
    seller = make_user("Seller")
    listing = listings.publish(seller, moderator, listings.create(seller, p_title="Колодки тормозные"))
    assert match_saved_searches(db) == {"listings": 1, "notified": 1, "failed": 0}
    notified = count(
        db,
        "select count(*) from core.notifications where user_id = %s and kind = 'saved_search_match' "
        "and (payload ->> 'listing_id')::bigint = %s",
        user.id,
        listing,
    )
    assert notified > 0
    assert saved > 0


def test_matching_runs_apart_from_approval_and_a_failing_listing_stops_no_other(
    api: Api, db: Conn, listings: Listings, user: User, make_user: MakeUser, moderator: User
) -> None:
    api.one("save_search", user.token, "All parts", None, Jsonb({"kind": "part"}))
    seller = make_user("Seller")
    doomed = listings.create(seller, p_title="Колодки doomed")
    fine = listings.create(seller, p_title="Колодки fine")
    # whatever goes wrong in matching one listing (here: its notifications cannot be written)
    db.execute(
        "create function pg_temp.refuse() returns trigger language plpgsql as $$ begin "
        "if new.kind = 'saved_search_match' and new.payload ->> 'listing_id' = '" + str(doomed) + "' "
        "then raise 'broken'; end if; return new; end $$"
    )
    db.execute(
        "create trigger refuse before insert on core.notifications "
        "for each row execute function pg_temp.refuse()"
    )
    listings.publish(seller, moderator, doomed)  # the approval knows nothing of saved searches
    listings.publish(seller, moderator, fine)
    assert match_saved_searches(db) == {"listings": 1, "notified": 1, "failed": 1}
    error = db.execute(
        "select attempts, last_error from core.saved_search_queue where listing_id = %s", [doomed]
    )
    attempts, last_error = error.fetchone() or (None, "")
    assert attempts == 1 and "broken" in str(last_error)
    match_saved_searches(db)
    match_saved_searches(db)
    assert match_saved_searches(db) == {"listings": 0, "notified": 0, "failed": 0}  # three tries, then left


def test_a_listing_withdrawn_before_matching_notifies_nobody(
    api: Api, db: Conn, listings: Listings, user: User, make_user: MakeUser, moderator: User
) -> None:
    api.one("save_search", user.token, "All parts", None, Jsonb({"kind": "part"}))
    seller = make_user("Seller")
    listing = listings.publish(seller, moderator, listings.create(seller))
    api.one("archive_listing", seller.token, listing)
    assert match_saved_searches(db) == {"listings": 1, "notified": 0, "failed": 0}


@pytest.mark.parametrize(
    "filters",
    [
        {"year": "2015.0x"},
        {"year": 2015.5},
        {"year": 10**30},
        {"brand": ["x"]},
        {"has_photos": "yes"},
        {"make_id": 10**12},
        {"model_id": 10**12},
        {"region": "r" * 81},
        {"price_max": -1},
        {"kind": None, "x": 1},
    ],
)
def test_saved_filters_have_their_types_and_bounds(api: Api, user: User, filters: dict[str, Any]) -> None:
    api.fails("22023", "save_search", user.token, "Name", "x", Jsonb(filters))


def test_saved_whole_numbers_may_be_spelled_as_python_sends_them(api: Api, user: User) -> None:
    api.one("save_search", user.token, "Cars", None, Jsonb({"year": 2015.0, "price_max": "1000000"}))
    assert api.rows("saved_searches", user.token)[0][3] == {
        "year": 2015,
        "price_max": 1000000,
        "currency": "RUB",
    }


# -- 2 and 3. unbounded and operator-only search texts ----------------------------------------------


@pytest.mark.parametrize("function", ["search", "search_facets"])
def test_search_texts_are_bounded_and_operator_runs_are_harmless(api: Api, function: str) -> None:
    with pytest.raises(psycopg.Error) as info, as_role(api.db, "bazaar_app"):
        api.db.execute(f"select * from api.{function}(p_query => repeat('-', 300000))".encode())
    assert info.value.sqlstate == "22023"
    words = " ".join(f"w{i}" for i in range(3200))
    with pytest.raises(psycopg.Error) as info, as_role(api.db, "bazaar_app"):
        api.db.execute(f"select * from api.{function}(p_query => %s)".encode(), [words])
    assert info.value.sqlstate == "22023"
    for query in ("-" * 34, "- " * 60, "a " + "-" * 40 + " b", "--" * 100):
        with as_role(api.db, "bazaar_app"):
            api.db.execute(f"select * from api.{function}(p_query => %s)".encode(), [query]).fetchall()


def test_text_filters_of_search_are_bounded(api: Api) -> None:
    for name, length in (("brand", 61), ("region", 81), ("city", 81)):
        with pytest.raises(psycopg.Error) as info, as_role(api.db, "bazaar_app"):
            api.db.execute(f"select * from api.search(p_{name} => %s)".encode(), ["x" * length])
        assert info.value.sqlstate == "22023"


def test_application_roles_have_timeouts_and_log_nothing_they_send(db: Conn) -> None:
    settings = dict(
        db.execute(
            "select r.rolname, s.setconfig from pg_db_role_setting as s "
            "join pg_roles as r on r.oid = s.setrole "
            "where s.setdatabase = 0 and r.rolname in ('bazaar_app', 'bazaar_worker')"
        ).fetchall()
    )
    for role in ("bazaar_app", "bazaar_worker"):
        config = dict(item.split("=", 1) for item in settings[role])
        assert config["log_parameter_max_length"] == "0"
        assert config["log_min_duration_statement"] == "-1"
        assert config["log_statement"] == "none"
        assert config["log_min_error_statement"] == "panic"
        # LOG lines (the audit trail's, V0023) but never an ERROR or WARNING, which quote arguments
        assert config["log_min_messages"] == "log"
        assert config["auto_explain.log_min_duration"] == "-1"
        assert "statement_timeout" in config and "idle_in_transaction_session_timeout" in config
    app = dict(item.split("=", 1) for item in settings["bazaar_app"])
    assert (app["statement_timeout"], app["idle_in_transaction_session_timeout"]) == ("5s", "15s")


# -- 4. integer attributes ------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2015.0, "2015.0", "2015", " 2015 "])
def test_integer_attributes_are_stored_as_integers(
    api: Api, db: Conn, listings: Listings, user: User, year: Any
) -> None:
    listing = listings.create(user, "car", p_attributes={**CAR_ATTRIBUTES, "year": year})
    stored = db.execute("select attributes -> 'year' from core.listings where id = %s", [listing]).fetchone()
    assert stored == (2015,)
    api.one("edit_listing", user.token, listing, Jsonb({"attributes": {**CAR_ATTRIBUTES, "year": year}}))
    assert db.execute(
        "select attributes -> 'year' from core.listings where id = %s", [listing]
    ).fetchone() == (2015,)


def test_year_search_cannot_fail_on_a_stored_row(api: Api, db: Conn, listings: Listings, user: User) -> None:
    listing = listings.create(user, "car")
    # a row stored before the fix, or by hand: the search compares, it does not cast
    db.execute(
        "update core.listings set status = 'published', attributes = attributes || '{\"year\": 2015.0}' "
        "where id = %s",
        [listing],
    )
    assert [r["listing_id"] for r in api.search(p_year=2015)] == [listing]
    db.execute(
        'update core.listings set attributes = attributes || \'{"year": "2015.0"}\' where id = %s', [listing]
    )
    assert api.search(p_year=2015) == []


@pytest.mark.parametrize(
    "value", [2015.5, "2015.0x", 10**20, "NaN", "Infinity", {"a": 1}, [2015], 1949, 2101, "1e3"]
)
def test_bad_integer_attributes_are_refused(listings: Listings, user: User, value: Any) -> None:
    with pytest.raises(psycopg.Error) as info:
        listings.create(user, "car", p_attributes={**CAR_ATTRIBUTES, "year": value})
    assert info.value.sqlstate == "22023"


# -- 6. edit skipped create's limits ----------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"brand": "b" * 61},
        {"brand": "b" * 1_500_000},
        {"contact_name": "n" * 1_000_000},
        {"contact_name": "a\tb"},
        {"title": 123},
        {"quantity": 1_000_001},
        {"quantity": "many"},
        {"model_id": 1.5},
        {"photos": "a.jpg"},
        {"tags": [1]},
        {"attributes": []},
        {"region": None},
    ],
)
def test_edit_applies_every_rule_of_create(
    api: Api, listings: Listings, user: User, changes: dict[str, Any]
) -> None:
    listing = listings.create(user)
    api.fails("22023", "edit_listing", user.token, listing, Jsonb(changes))


def test_create_refuses_what_edit_refuses(listings: Listings, user: User) -> None:
    for fields in ({"p_brand": "b" * 61}, {"p_contact_name": "n" * 81}, {"p_quantity": 1_000_001}):
        with pytest.raises(psycopg.Error) as info:
            listings.create(user, **fields)
        assert info.value.sqlstate == "22023"


def test_every_text_column_the_api_writes_is_bounded_by_its_table(db: Conn) -> None:
    # reference data written only by migrations needs no bound
    written_by_migrations_only = {
        "attribute_definitions.label",
        "attribute_definitions.pattern",
        "attribute_definitions.value_type",
        "categories.name",
        "settings.key",
        "settings.description",
        "settings.value_type",
        "settings.min_value",
        "settings.max_value",
        "vehicle_generations.name",
        "vehicle_makes.name",
        "vehicle_models.name",
        # the kept cards copy bounded columns of other tables (V0036)
        "listing_cards.category",
        "listing_cards.make",
        "listing_cards.model",
        "listing_cards.seller_name",
        "listing_cards.shop_name",
    }
    unbounded = db.execute(
        """
        select c.relname || '.' || a.attname
        from pg_attribute as a join pg_class as c on c.oid = a.attrelid
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'core' and c.relkind in ('r', 'p') and not c.relispartition and a.attnum > 0
            and not a.attisdropped and a.atttypid = 'text'::regtype
            and not exists (
                select from pg_constraint as k
                where k.conrelid = c.oid and k.contype = 'c' and a.attnum = any(k.conkey)
                    and pg_get_constraintdef(k.oid)
                        ~ '(char_length|octet_length|\\{\\d+(,\\d+)?\\}|= ANY \\(ARRAY)'
            )
        order by 1
        """
    ).fetchall()
    assert sorted(set(r[0] for r in unbounded) - written_by_migrations_only) == []


# -- 7. money overflow ------------------------------------------------------------------------------


def test_prices_and_quantities_are_bounded_so_every_total_fits(
    api: Api, db: Conn, listings: Listings, user: User, make_user: MakeUser, moderator: User
) -> None:
    with pytest.raises(psycopg.Error) as info:
        listings.create(user, p_price_amount=2**62)
    assert info.value.sqlstate == "22023"
    listing = listings.publish(
        user, moderator, listings.create(user, p_price_amount=10**11, p_quantity=10**6)
    )
    api.fails("22023", "change_price", user.token, listing, 2**62)
    buyer = make_user("Buyer")
    api.one("cart_add", buyer.token, listing, 100_000)
    assert api.rows("cart", buyer.token)[0][7] == 10**16  # the largest line amount fits
    order = api.one("create_order", buyer.token, listing, 100_000)
    assert order[4] == 10**16
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("update core.listings set price_amount = %s where id = %s", [2**62, listing])


# -- 8. settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("session_lifetime", "-1 day"),
        ("session_lifetime", "100000 years"),
        ("session_lifetime", "soon"),
        ("bcrypt_cost", 99),
        ("bcrypt_cost", 3),
        ("chat_flood_limit", 1.5),
        ("chat_flood_limit", "5"),
        ("max_photos", 500),
        ("chat_delete_roles", ["author", "anyone"]),
        ("chat_delete_roles", "author"),
        ("search_page_max", 10**30),
        ("outbox_lease", 60),
    ],
)
def test_settings_have_a_type_and_a_range(api: Api, admin: User, key: str, value: Any) -> None:
    api.fails("22023", "set_setting", admin.token, key, Jsonb(value))


def test_a_setting_in_range_is_set_and_the_table_refuses_any_other(api: Api, db: Conn, admin: User) -> None:
    api.one("set_setting", admin.token, "bcrypt_cost", Jsonb(12))
    settings = {r[0]: r for r in api.rows("settings", admin.token)}
    assert settings["bcrypt_cost"][1:6] == (12, "integer", "4", "15", None)
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("update core.settings set value = '\"-1 day\"' where key = 'session_lifetime'")


# -- 9. built-in capabilities ---------------------------------------------------------------------


def test_the_application_cannot_create_large_objects(db: Conn) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_role(db, "bazaar_app"):
        db.execute("select lo_from_bytea(0, 'x')")


# -- abuse limits -----------------------------------------------------------------------------------


def test_contacts_of_at_most_n_listings_a_day_per_viewer(
    api: Api, db: Conn, listings: Listings, user: User, make_user: MakeUser, moderator: User
) -> None:
    db.execute("update core.settings set value = '2' where key = 'contact_reveal_limit'")
    seller = make_user("Seller")
    ids = [listings.publish(seller, moderator, listings.create(seller)) for _ in range(3)]
    for listing in ids[:2]:
        api.rows("open_contacts", listing, user.token, None, "card")
    api.rows("open_contacts", ids[0], user.token, None, "card")  # again: nothing new revealed
    api.fails("BZ429", "open_contacts", ids[2], user.token, None, "card")
    for listing in ids[:2]:
        api.rows("open_contacts", listing, None, "fingerprint-a", "card")
    api.fails("BZ429", "open_contacts", ids[2], None, "fingerprint-a", "card")
    api.rows("open_contacts", ids[2], None, "fingerprint-b", "card")


def test_clickers_are_messaged_once_a_day(
    api: Api, listings: Listings, user: User, make_user: MakeUser, moderator: User
) -> None:
    seller = make_user("Seller")
    listing = listings.publish(seller, moderator, listings.create(seller))
    api.rows("open_contacts", listing, user.token, None, "card")
    assert api.one("notify_clickers", seller.token, listing, "Цена снижена") == 1
    api.fails("BZ429", "notify_clickers", seller.token, listing, "Ещё раз")


def test_registrations_per_client_and_per_minute_are_limited(api: Api, db: Conn) -> None:
    def register(fingerprint: str | None) -> None:
        api.one("register", "Someone", PASSWORD, None, unique_phone(), None, fingerprint)

    for _ in range(3):
        register("device-1234")
    with pytest.raises(psycopg.Error) as info:
        register("device-1234")
    assert info.value.sqlstate == "BZ429"
    register("device-5678")
    db.execute("update core.settings set value = '10' where key = 'registration_global_limit'")
    total = count(db, "select count(*) from core.users where created_at > now() - interval '1 minute'")
    for _ in range(max(0, 10 - total)):
        register(None)
    api.fails("BZ429", "register", "Someone", PASSWORD, None, unique_phone())


def test_sign_in_code_guessing_is_capped_per_day_and_the_owner_is_told(
    api: Api, db: Conn, make_user: MakeUser
) -> None:
    user = make_user("Guessed")
    api.rows("link_telegram", user.token, 424242, user.phone)
    wrong = 0
    for _ in range(2):  # two codes of five tries each reach the daily limit of ten
        api.one("request_sign_in_code", user.phone)
        for _ in range(5):
            api.warns("28P01", "sign_in_with_code", user.phone, "000001")
            wrong += 1
        db.execute("update core.sign_in_codes set created_at = created_at - interval '2 minutes'")
    assert wrong == 10
    api.fails("BZ429", "sign_in_with_code", user.phone, "000001")
    locked = count(
        db, "select count(*) from core.notifications where user_id = %s and kind = 'sign_in_locked'", user.id
    )
    assert locked >= 1
    # a new code is answered as usual, but none goes out while locked
    before = count(
        db, "select count(*) from core.notifications where kind = 'sign_in_code' and user_id = %s", user.id
    )
    api.one("request_sign_in_code", user.phone)
    assert (
        count(
            db,
            "select count(*) from core.notifications where kind = 'sign_in_code' and user_id = %s",
            user.id,
        )
        == before
    )


def test_codes_asked_for_a_number_are_capped_per_day(api: Api, db: Conn) -> None:
    phone = unique_phone()
    for _ in range(10):
        api.one("request_sign_in_code", phone)
        db.execute("update core.sign_in_codes set created_at = created_at - interval '2 minutes'")
    api.fails("BZ429", "request_sign_in_code", phone)


def test_guessing_a_number_without_an_account_looks_the_same(api: Api) -> None:
    phone = unique_phone()
    api.one("request_sign_in_code", phone)
    notice = api.warns("28P01", "sign_in_with_code", phone, "000001")
    assert notice.message_detail == "4 attempt(s) left"


# -- moderation and names -----------------------------------------------------------------------------


def test_a_moderator_cannot_moderate_their_own_listing(
    api: Api, listings: Listings, moderator: User, make_user: MakeUser
) -> None:
    listing = listings.create(moderator)
    api.one("submit_listing", moderator.token, listing)
    api.fails("42501", "approve_listing", moderator.token, listing)
    api.fails("42501", "reject_listing", moderator.token, listing, "not good enough")
    other = make_user("Other moderator", role="moderator")
    assert api.one("approve_listing", other.token, listing) == "published"


@pytest.mark.parametrize(
    "name", ["Ad\u200bmin", "\u202eNimda", "Shop\ufeff", "Sh\u00adop", "Shop\u2060", "A\u0007B", "Shop\u180e"]
)
def test_names_refuse_invisible_and_control_characters(
    api: Api, user: User, moderator: User, name: str
) -> None:
    api.fails("22023", "create_shop", user.token, name, "")
    api.fails("22023", "register", name, PASSWORD, None, unique_phone())
    api.fails("22023", "create_channel", moderator.token, name, -5001, None, None)


def test_names_are_stored_in_one_form(api: Api, db: Conn, user: User) -> None:
    shop = api.one("create_shop", user.token, "Auto\u00a0\u00a0Parts  Е\u0308", "")
    stored = db.execute("select name from core.shops where id = %s", [shop]).fetchone()
    assert stored == ("Auto Parts Ё",)
    api.fails("23505", "create_shop", user.token, "auto parts ё", "")


FORMAT_CHARACTERS = [c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]


def test_every_unicode_format_character_is_refused_in_names(db: Conn) -> None:
    accepted = []
    for code in FORMAT_CHARACTERS:
        try:
            with db.transaction():
                db.execute("select core.clean_display_name(%s, 'name', 1, 80)", [f"Ad{chr(code)}min"])
            accepted.append(f"U+{code:04X}")
        except psycopg.errors.InvalidParameterValue:
            pass
    assert len(FORMAT_CHARACTERS) > 150
    assert accepted == []


def test_a_moderator_who_left_the_shop_still_cannot_approve_their_listing(
    api: Api, listings: Listings, make_user: MakeUser
) -> None:
    owner, moderator = make_user("Owner"), make_user("Moderator", role="moderator")
    shop = api.one("create_shop", owner.token, "Left Behind", "")
    api.rows("add_shop_member", owner.token, shop, moderator.id, "seller")
    listing = listings.create(moderator, p_shop_id=shop)
    api.one("submit_listing", moderator.token, listing)
    api.rows("remove_shop_member", moderator.token, shop, moderator.id)  # leaves, listing stays
    api.fails("42501", "approve_listing", moderator.token, listing)


def test_the_marketplace_issues_so_many_codes_a_minute_for_any_numbers(api: Api, db: Conn) -> None:
    db.execute("update core.settings set value = '10' where key = 'sign_in_code_global_limit'")
    issued = count(
        db, "select count(*) from core.sign_in_codes where created_at > now() - interval '1 minute'"
    )
    for _ in range(max(0, 10 - issued)):
        api.one("request_sign_in_code", unique_phone())
    api.fails("BZ429", "request_sign_in_code", unique_phone())


def test_sign_in_records_are_purged_once_they_count_for_nothing(api: Api, db: Conn, user: User) -> None:
    api.one("request_sign_in_code", user.phone)
    api.warns("28P01", "login", user.email, "a wrong password")
    db.execute("update core.sign_in_codes set created_at = created_at - interval '25 hours'")
    db.execute("update core.sign_in_failures set failed_at = failed_at - interval '16 minutes'")
    purged = db.execute("select ops.purge_sign_in_records()").fetchone()
    assert purged is not None and purged[0]["codes"] >= 1 and purged[0]["failures"] >= 1
    assert count(db, "select count(*) from core.sign_in_codes where phone = %s", user.phone) == 0


@pytest.mark.parametrize("function", ["open_contacts", "vehicle_models"])
def test_texts_that_were_taken_whole_are_bounded(
    api: Api, listings: Listings, user: User, make_user: MakeUser, moderator: User, function: str
) -> None:
    if function == "open_contacts":
        seller = make_user("Seller")
        listing = listings.publish(seller, moderator, listings.create(seller))
        api.fails("22023", "open_contacts", listing, user.token, "f" * 100_000, "card")
    else:
        api.fails("22023", "vehicle_models", "m" * 101)
