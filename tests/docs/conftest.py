"""Fixtures for the documentation's tests."""

from tests.serve.conftest import chromium  # noqa: F401  (the same browser fixture)
