"""`map_on_threads`: a function over items on a few plain threads, results in order.

Not `concurrent.futures`: its import (with `logging`) costs a `qpack install` more than the
threads save (the wheels' inflating and hashing, and the fsyncs, release the GIL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_on_threads(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """`[fn(x) for x in items]`, run on `workers` threads, this one among them. An exception is
    raised once every item has been tried: the one of the first item in order that failed, as
    if they had run one by one."""
    todo = iter(enumerate(items))
    lock = threading.Lock()
    done: dict[int, tuple[bool, R | Exception]] = {}

    def work() -> None:
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            i, x = item
            try:
                done[i] = (True, fn(x))
            except Exception as e:  # raised below, in order, on the caller's thread
                done[i] = (False, e)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(workers, len(items)) - 1)]
    for t in threads:
        t.start()
    work()
    for t in threads:
        t.join()
    out: list[R] = []
    for i in range(len(items)):
        ok, value = done[i]
        if not ok:
            assert isinstance(value, Exception)
            raise value
        out.append(value)  # type: ignore[arg-type]
    return out
