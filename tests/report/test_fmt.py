"""Versions for people: full git SHAs shortened in the live view, everything else whole."""

from __future__ import annotations

from shipper.report import fmt

SHA = "876d82f3841cca4a52f89400c0e9651aac10f02b"


def test_a_change_from_a_pushed_sha_shows_it_short() -> None:
    assert fmt.change(SHA, "v2") == "876d82f3841c -> v2"


def test_a_name_is_never_cut_and_unknown_reads_as_a_question_mark() -> None:
    assert fmt.change(None, "release-2026-12-04-hotfix") == "? -> release-2026-12-04-hotfix"
    assert fmt.change("v2", "v2") == "v2"
