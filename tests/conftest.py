"""Hooks every test run loads (also in the pytest-xdist controller, which reads no
conftest below tests/): the reliability suite's summary line."""

from tests.reliability.tally import pytest_runtest_logreport, pytest_terminal_summary

__all__ = ["pytest_runtest_logreport", "pytest_terminal_summary"]
