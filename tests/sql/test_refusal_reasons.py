"""Every 55000 an api function raises says which refusal it is: a JSON DETAIL with a stable
`reason`, listed in docs/errors.md (read from the source, so a new refusal cannot skip it), and
what an application reads at run time."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.sql.conftest import Api, Listings, MakeUser, User

ROOT = Path(__file__).resolve().parents[2]
RAISE = re.compile(r"raise exception using\s+errcode = '55000'(.*?);\n", re.S)


def refusals() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "sql" / "functions").rglob("*.sql")):
        for match in RAISE.finditer(path.read_text()):
            found.append((str(path.relative_to(ROOT)), match.group(1)))
    return found


def test_every_refusal_carries_a_documented_reason() -> None:
    found = refusals()
    assert len(found) > 30
    assert [path for path, body in found if "detail =" not in body] == []
    codes = {code for _, body in found for code in re.findall(r'"reason": "(\w+)"', body)}
    documented = (ROOT / "docs" / "errors.md").read_text().split("## Refusal reasons")[1].split("\n## ")[0]
    assert sorted(code for code in codes if f"`{code}`" not in documented) == []


def test_an_application_reads_the_reason(
    api: Api, listings: Listings, make_user: MakeUser, admin: User
) -> None:
    seller = make_user("Reasons")
    draft = listings.create(seller, "part")
    error = api.fails("55000", "bump_listing", seller.token, draft)
    assert json.loads(error.diag.message_detail or "{}") == {"reason": "not_published"}
    api.one("block_user", admin.token, seller.id, "spam listings")
    error = api.fails("55000", "block_user", admin.token, seller.id, "again")
    assert json.loads(error.diag.message_detail or "{}")["reason"] == "already_blocked"
    other = make_user("Empty cart")
    error = api.fails("55000", "checkout", other.token, None)
    assert json.loads(error.diag.message_detail or "{}")["reason"] == "cart_empty"
