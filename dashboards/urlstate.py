"""Filters in the URL: pure functions between a query string and a page's widget state.

A page declares its filters as ``{name: allowed values}`` (the first allowed value is the default).
:func:`query_to_state` keeps only allowed values (anything else falls back to the default, so a stale or
hand-edited link still opens); :func:`state_to_search` writes the non-default values back, in a stable
order, so ``query_to_state(parse(state_to_search(s)), ...) == s``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlencode

Options = Mapping[str, Sequence[str]]


def parse(search: str | None) -> dict[str, str]:
    """``"?a=1&b=x"`` -> ``{"a": "1", "b": "x"}`` (the last value of a repeated key wins)."""
    parsed = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    return {key: values[-1] for key, values in parsed.items()}


def query_to_state(query: Mapping[str, object], options: Options) -> dict[str, str]:
    """The state of every filter of ``options`` from a query (allowed values only, else the default)."""
    state = {}
    for name, allowed in options.items():
        value = query.get(name)
        value = value[-1] if isinstance(value, list) and value else value
        state[name] = str(value) if value is not None and str(value) in allowed else str(allowed[0])
    return state


def state_to_search(state: Mapping[str, object], options: Options, keep: Mapping[str, str] | None = None) -> str:
    """``"?name=value&..."`` for the filters of ``state`` that differ from their default, plus ``keep``
    (e.g. the study name); ``""`` when everything is at its default."""
    pairs = [(name, str(value)) for name, value in (keep or {}).items() if value]
    pairs += [(name, str(state[name])) for name, allowed in options.items()
              if name in state and state[name] is not None and str(state[name]) != str(allowed[0])]
    return f"?{urlencode(pairs)}" if pairs else ""


def shows(search: str | None, query: Mapping[str, object], options: Options) -> bool:
    """Whether the address ``search`` already encodes the filter state of ``query`` (both read through
    :func:`query_to_state`, so a value the page would not allow counts as its default on either side)."""
    return query_to_state(parse(search), options) == query_to_state(query, options)


def pages(total: int, per_page: int) -> list[str]:
    """Allowed page numbers (``"1"`` .. ``"N"``) of a paginated list of ``total`` items."""
    count = max(1, -(-total // per_page))
    return [str(n) for n in range(1, count + 1)]
