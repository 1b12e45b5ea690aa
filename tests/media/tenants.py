"""A tenant resolver for tests, the way a multi-tenant project would write one."""

from __future__ import annotations

from contextvars import ContextVar

current: ContextVar[object] = ContextVar("current_tenant", default=None)


def current_tenant() -> object:
    return current.get()
