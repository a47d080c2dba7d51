"""docs/errors.md and the functions' COMMENTs (what `\\df+` shows) name the same SQLSTATEs for every
api function, so neither drifts: a code added to a function's comment must reach the docs (and the
fuzzer, which reads the docs), and the other way round."""

from __future__ import annotations

import re
from typing import Any

import psycopg

from tests.fuzz.test_api_fuzz import DOCUMENTED, TOKEN_CODES

Conn = psycopg.Connection[Any]
SQLSTATE = re.compile(r"\b(?:\d[0-9A-Z]{4}|P0\d{3}|BZ\d{3})\b")


def test_each_function_comment_names_the_codes_its_docs_row_names(db: Conn) -> None:
    rows = db.execute(
        "select p.proname, coalesce(obj_description(p.oid, 'pg_proc'), ''), 'p_token' = any(p.proargnames) "
        "from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace where n.nspname = 'api'"
    ).fetchall()
    differences = {}
    for name, comment, takes_token in rows:
        implied = TOKEN_CODES if takes_token else set()
        in_comment = set(SQLSTATE.findall(comment)) | implied
        in_docs = DOCUMENTED.get(name, set()) | implied
        if in_comment != in_docs:
            differences[name] = {
                "comment only": sorted(in_comment - in_docs),
                "docs only": sorted(in_docs - in_comment),
            }
    assert differences == {}
    assert len(rows) == len(DOCUMENTED)
