"""Run the same call from several threads at once, each on its own database connection, for the
tests that prove a double tap or two workers write once."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_at_once(fn: Callable[[], Any], n: int = 2, timeout: float = 60) -> list[Any]:
    """`fn()` in `n` threads released together; returns their results (in finishing order) and
    re-raises the first error any of them hit."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(fn())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    if errors:
        raise errors[0]
    assert len(results) == n, f"{n - len(results)} of the {n} calls did not finish in {timeout} s"
    return results
