"""People and listings made through the api (as the applications make them), for the worker tests
that follow a marketplace event to what a Telegram chat or channel receives."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from tests.worker.conftest import Database

PASSWORD = "correct horse battery"
_serial = itertools.count(1)


@dataclass
class Account:
    id: int
    email: str
    phone: str
    token: str


@dataclass
class Marketplace:
    db: Database

    def call(self, function: str, **kwargs: Any) -> Any:
        """api.FUNCTION(name => value, ...): its single value."""
        arguments = ", ".join(f"{name} => %({name})s" for name in kwargs)
        with self.db.admin() as conn:
            row = conn.execute(f"select api.{function}({arguments})".encode(), kwargs).fetchone()
        return None if row is None else row[0]

    def rows(self, function: str, **kwargs: Any) -> list[tuple[Any, ...]]:
        arguments = ", ".join(f"{name} => %({name})s" for name in kwargs)
        with self.db.admin() as conn:
            return conn.execute(f"select * from api.{function}({arguments})".encode(), kwargs).fetchall()

    def account(self, role: str = "user", channels: list[str] | None = None) -> Account:
        n = next(_serial) + 700_000
        email, phone = f"market{n}@example.com", f"+7915{n:07d}"
        user_id = self.call(
            "register",
            p_display_name=f"Market {n}",
            p_password=PASSWORD,
            p_email=email,
            p_phone=phone,
            p_notification_channels=channels or ["email"],
        )
        with self.db.admin() as conn:
            conn.execute("update core.users set role = %s where id = %s", [role, user_id])
        token = self.rows("login", p_identifier=email, p_password=PASSWORD)[0][0]
        return Account(user_id, email, phone, token)

    def category(self, slug: str) -> int:
        with self.db.admin() as conn:
            row = conn.execute("select id from core.categories where slug = %s", [slug]).fetchone()
        assert row is not None
        return int(row[0])

    def published_part(self, seller: Account, moderator: Account, **fields: Any) -> int:
        listing_id = int(
            self.call(
                "create_listing",
                p_token=seller.token,
                p_kind="part",
                p_category_id=self.category("brake-pads"),
                p_title=fields.pop("title", "Колодки тормозные Bosch"),
                p_price_amount=fields.pop("price", 350000),
                p_region="Москва",
                p_city="Москва",
                p_attributes=Jsonb({"part_number": "0 986 494 294", "condition": "new"}),
                **{f"p_{k}": v for k, v in fields.items()},
            )
        )
        self.call("submit_listing", p_token=seller.token, p_listing_id=listing_id)
        self.call("approve_listing", p_token=moderator.token, p_listing_id=listing_id)
        return listing_id

    def edit(self, seller: Account, listing_id: int, moderator: Account, **changes: Any) -> None:
        """The seller edits a listing on sale and a moderator approves the change (ADR 0019)."""
        outcome = self.call(
            "edit_listing", p_token=seller.token, p_listing_id=listing_id, p_changes=Jsonb(changes)
        )
        if outcome == "pending_review":
            self.call("approve_listing", p_token=moderator.token, p_listing_id=listing_id)

    def pending_posts(self) -> int:
        """Channel posts and edits waiting in the outbox."""
        with self.db.admin() as conn:
            row = conn.execute(
                "select count(*) from core.notifications "
                "where channel_post_id is not null and delivered_at is null and failed_at is null"
            ).fetchone()
        assert row is not None
        return int(row[0])
