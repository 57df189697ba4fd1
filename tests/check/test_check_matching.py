"""Values, paths and matchers of scenarios: what `${…}` becomes and why a value does not match."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ocppsim.check.matching import (
    MISSING,
    MatchError,
    check_matcher,
    get_path,
    mismatch,
    parse_time,
    substitute,
    variables_in,
)


def test_a_whole_variable_keeps_its_type_and_an_embedded_one_becomes_text() -> None:
    variables = {"n": 3, "tag": "ABC", "request": {"idTag": "${tag}", "at": "${now}"}}
    assert substitute("${n}", variables) == 3
    assert substitute("tag ${tag} #${n}", variables) == "tag ABC #3"
    assert substitute({"list": ["${n}", {"x": "${tag}"}]}, variables) == {"list": [3, {"x": "ABC"}]}
    # a variable's own value is worked out too (a parameter holding ${now})
    request = substitute("${request}", variables)
    assert request["idTag"] == "ABC"
    assert parse_time(request["at"]) is not None


def test_date_times_with_any_number_of_fraction_digits_are_read() -> None:
    """RFC 3339 allows any number of fraction digits (Python 3.10 reads only 3 or 6 itself)."""
    half = datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)
    assert parse_time("2024-01-01T00:00:00.5Z") == half
    assert parse_time("2024-01-01T02:00:00.5000001+02:00") == half
    assert parse_time("2024-01-01T00:00:00Z") == half.replace(microsecond=0)
    assert parse_time("not a date") is None


def test_arithmetic_and_dates() -> None:
    assert substitute("${n * 2 + 1}", {"n": 3}) == 7
    assert substitute("${n - 0.5}", {"n": "2"}) == 1.5
    later = parse_time(substitute("${now+3600}", {}))
    assert later is not None
    assert abs((later - datetime.now(timezone.utc) - timedelta(hours=1)).total_seconds()) < 5
    with pytest.raises(MatchError, match="unknown variable 'nope'"):
        substitute("${nope + 1}", {"n": 1})
    with pytest.raises(MatchError, match="only variables, numbers"):
        substitute("${__import__('os')}", {})
    with pytest.raises(MatchError, match="loop"):
        substitute("${a}", {"a": "${b}", "b": "${a}"})
    assert variables_in({"x": ["${a * b}", "${c}"]}) == {"a", "b", "c"}
    # text(…): a value as a string, as OCPP 1.x configuration values are
    assert substitute("${text(n)}", {"n": 5}) == "5"
    assert substitute("${text(n * 2)}", {"n": 5}) == "10"
    assert variables_in("${text(interval)}") == {"interval"}
    with pytest.raises(MatchError, match="text"):
        substitute("${text(n, n)}", {"n": 1})


def test_paths() -> None:
    payload = {"a": [{"b": 1}, {"b": 2}], "c": {"d": None}}
    assert get_path(payload, "a.1.b") == 2
    assert get_path(payload, "c.d") is None
    assert get_path(payload, "a.5.b", MISSING) is MISSING
    with pytest.raises(KeyError):
        get_path(payload, "x")


@pytest.mark.parametrize(
    ("value", "spec", "why"),
    [
        ({"status": "Accepted"}, {"status": "Accepted"}, None),
        ({"status": "Blocked"}, {"status": "Accepted"}, 'status is "Blocked", expected "Accepted"'),
        ({}, {"status": "Accepted"}, 'status is missing, expected "Accepted"'),
        (
            {"s": "Blocked"},
            {"s": {"one_of": ["A", "B"]}},
            's is "Blocked", expected one of "A", "B"',
        ),
        ({"n": 0}, {"n": {"min": 1}}, "n is 0, expected at least 1"),
        ({"n": True}, {"n": {"min": 1}}, "n is true, expected a number"),
        ({"n": 1}, {"n": True}, "n is 1, expected true"),
        ({"n": 1.0}, {"n": 1}, None),
        ({"t": 5}, {"t": {"not": 5}}, "t is 5, expected anything but 5"),
        ({"x": 1}, {"x": {"absent": True}}, "x is present (1), expected it absent"),
        ({"l": [1]}, {"l": {"min_length": 2}}, "l has 1 item(s), expected at least 2"),
        ({"l": [{"a": 1}]}, {"l": {"contains": {"a": 2}}}, 'l has no item matching {"a":2}'),
        ({"l": [{"a": 1}, {"a": 2}]}, {"l": {"each": {"a": 1}}}, "l.1.a is 2, expected 1"),
        ({"i": "x"}, {"i": {"of_type": "integer"}}, 'i is "x", expected a value of type integer'),
        ({"i": "abc"}, {"i": {"matches": "^a.c$"}}, None),
        ({"o": 3}, {"o": {"k": 1}}, "o is 3, expected an object"),
    ],
)
def test_matchers_say_which_field_and_why(value: object, spec: object, why: str | None) -> None:
    assert mismatch(value, spec) == why


def test_near_now() -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert mismatch({"t": now}, {"t": {"near_now": 60}}) is None
    why = mismatch({"t": "2001-01-01T00:00:00Z"}, {"t": {"near_now": 60}})
    assert why is not None and why.startswith('t is "2001-01-01T00:00:00Z",')
    assert mismatch({"t": "soon"}, {"t": {"near_now": 60}}) == 't is "soon", expected a date-time'


def test_a_matcher_that_mixes_words_and_fields_is_refused() -> None:
    with pytest.raises(MatchError, match="mixes matcher words"):
        check_matcher({"status": {"one_of": ["A"], "extra": 1}})
    with pytest.raises(MatchError, match="takes a list"):
        check_matcher({"status": {"one_of": "A"}})
    with pytest.raises(MatchError, match="takes one of string"):
        check_matcher({"x": {"of_type": "text"}})
    check_matcher({"type": "Hard", "idTagInfo": {"status": {"not_one_of": ["Blocked"]}}})
