"""Fixtures of the physio tests: the real influxd and fresh databases of the store tests."""
from tests.store.conftest import db, influxd  # noqa: F401  (pytest fixtures, reused)
