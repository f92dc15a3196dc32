"""dashboards.urlstate: query string <-> filter state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dashboards import urlstate

OPTIONS = {"run": ["a", "b c"], "arm": ["all", "cl", "baseline-nm"], "page": ["1", "2", "3"]}


@given(st.fixed_dictionaries({name: st.sampled_from(values) for name, values in OPTIONS.items()}))
def test_round_trip(state):
    search = urlstate.state_to_search(state, OPTIONS)
    assert urlstate.query_to_state(urlstate.parse(search), OPTIONS) == state


def test_defaults_are_left_out_and_unknown_values_fall_back():
    assert urlstate.state_to_search({"run": "a", "arm": "all", "page": "1"}, OPTIONS) == ""
    assert urlstate.state_to_search({"run": "b c", "arm": "cl", "page": "1"}, OPTIONS) == "?run=b+c&arm=cl"
    state = urlstate.query_to_state({"arm": "../../etc", "page": ["2", "9"], "other": "x"}, OPTIONS)
    assert state == {"run": "a", "arm": "all", "page": "1"}
    assert urlstate.query_to_state({"page": ["9", "3"]}, OPTIONS)["page"] == "3"


def test_pages():
    assert urlstate.pages(0, 12) == ["1"]
    assert urlstate.pages(25, 12) == ["1", "2", "3"]


def test_shows_compares_the_states_the_address_and_the_widgets_encode():
    assert urlstate.shows("", {"run": "a", "arm": "all", "page": 1}, OPTIONS)
    assert urlstate.shows("?arm=cl&page=2", {"arm": "cl", "page": 2, "run": "a"}, OPTIONS)
    assert urlstate.shows("?arm=../x", {"arm": "all"}, OPTIONS)  # a value the page refuses is its default
    assert not urlstate.shows("?arm=cl", {"arm": "all"}, OPTIONS)
    assert not urlstate.shows("?page=2", {"page": 3}, OPTIONS)
    assert not urlstate.shows(None, {"run": "b c"}, OPTIONS)
