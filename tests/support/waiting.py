"""Polling for something another process or the browser does."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, what: str, timeout: float = 10.0, interval: float = 0.1,
               detail: Callable[[], str] | None = None) -> T:
    """Call `predicate` until it returns something truthy, and return that. On timeout, fail naming
    `what` was awaited, with `detail()` (e.g. a worker's log) when given."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{extra}")
        time.sleep(interval)
