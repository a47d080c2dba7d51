from __future__ import annotations

import pytest

from bazaar.sqlscript import ScriptSyntaxError, split


def test_splits_on_semicolons_and_records_start_lines() -> None:
    script = "-- header\ncreate table a (id int);\n\n  insert into a values (1);\nselect 1"
    statements = split(script)
    assert [(s.text, s.line) for s in statements] == [
        ("create table a (id int)", 2),
        ("insert into a values (1)", 4),
        ("select 1", 5),
    ]


def test_semicolons_inside_quotes_comments_and_dollar_quotes_do_not_split() -> None:
    script = (
        "select 'a;b', \"odd;name\", E'it\\'s;'; -- c;omment\n"
        "/* block; /* nested; */ still; */ select 2;\n"
        "do $body$ begin perform 1; perform $$x;$$; end $body$;\n"
        "select $1;"
    )
    texts = [s.text for s in split(script)]
    assert texts == [
        "select 'a;b', \"odd;name\", E'it\\'s;'",
        "select 2",
        "do $body$ begin perform 1; perform $$x;$$; end $body$",
        "select $1",
    ]


def test_doubled_quotes_stay_inside_the_string() -> None:
    assert [s.text for s in split("select 'it''s; fine'; select 2")] == ["select 'it''s; fine'", "select 2"]


def test_comment_only_script_has_no_statements() -> None:
    assert split("-- nothing\n/* at all */\n;\n") == []


def test_line_of_a_position_inside_a_statement() -> None:
    statement = split("\n\nselect 1,\n  2,\n  nope;")[0]
    assert statement.line == 3
    assert statement.line_of(statement.text.index("nope") + 1) == 5


@pytest.mark.parametrize(
    ("script", "line"),
    [("select 1;\nselect 'open", 2), ("\n\ndo $f$ begin", 3), ("select 1 /* never closed", 1)],
)
def test_unterminated_text_is_reported_with_its_line(script: str, line: int) -> None:
    with pytest.raises(ScriptSyntaxError) as info:
        split(script)
    assert info.value.line == line
