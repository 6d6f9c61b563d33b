"""Heroku's Range header, parsed and paged as the stand-in answers it."""

from __future__ import annotations

import pytest

from shipper.sandbox.ranges import Range, RangeError, paginate, parse_range

FIELDS = ("id", "version")


def _key(item: int, field: str) -> int:
    return item


def test_cli_order_of_parameters_is_read() -> None:
    """`version ..; max=10, order=desc` (the Heroku CLI's form) asks for ten, newest first."""
    assert parse_range("version ..; max=10, order=desc", FIELDS, "id") == Range(
        "version", max=10, descending=True
    )


def test_other_order_of_parameters_is_read() -> None:
    """`version ..; order=desc, max=3` means the same as the CLI's order."""
    assert parse_range("version ..; order=desc, max=3", FIELDS, "id") == Range(
        "version", max=3, descending=True
    )


def test_unknown_field_is_refused() -> None:
    """A field the endpoint cannot order by is a RangeError (Heroku's 416)."""
    with pytest.raises(RangeError, match="Accept-Ranges"):
        parse_range("name ..", FIELDS, "id")


def test_descending_page_and_next_range_cover_everything_once() -> None:
    """Following Next-Range pages through every item once, newest first."""
    items = list(range(1, 6))
    page, following = paginate(items, Range("version", max=2, descending=True), _key)
    seen = list(page)
    while following is not None:
        page, following = paginate(items, parse_range(following.render(), FIELDS, "id"), _key)
        seen += page
    assert seen == [5, 4, 3, 2, 1]


def test_next_range_uses_an_exclusive_start() -> None:
    """The next page starts after the last item shown: `version ]4..; max=2, order=desc`."""
    _, following = paginate([1, 2, 3, 4, 5], Range("version", max=2, descending=True), _key)
    assert following is not None
    assert following.render() == "version ]4..; max=2, order=desc"
