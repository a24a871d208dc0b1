"""Produce items in a worker thread while the caller consumes them.

The loader reads, parses and checks the next chunks while the warehouse
takes the current one: Arrow and the socket writes release the GIL, so
both sides of the load run at once."""

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_END = object()


@contextmanager
def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """`items`, computed at most `depth` ahead (memory stays bounded); the
    producer's exceptions are raised to the consumer. On leaving, the worker
    finishes the item in hand and stops."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as worker:

        def consume() -> Iterator[T]:
            pending = deque(worker.submit(next, items, _END) for _ in range(depth))
            while (item := pending.popleft().result()) is not _END:
                pending.append(worker.submit(next, items, _END))
                yield item

        try:
            yield consume()
        finally:
            worker.shutdown(cancel_futures=True)
