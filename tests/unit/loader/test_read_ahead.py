"""Items produced in a worker thread, a bounded number ahead."""

import threading

import pytest
from superstore_loader.read_ahead import read_ahead


def test_items_arrive_in_order_from_another_thread():
    threads = set()

    def items():
        for i in range(10):
            threads.add(threading.current_thread())
            yield i

    with read_ahead(items()) as ahead:
        assert list(ahead) == list(range(10))
    assert threading.current_thread() not in threads


def test_a_producer_error_reaches_the_consumer():
    def items():
        yield 1
        raise ValueError("bad block")

    with read_ahead(items()) as ahead, pytest.raises(ValueError, match="bad block"):
        list(ahead)


def test_leaving_early_stops_the_producer_a_few_items_ahead():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    with read_ahead(items(), depth=2) as ahead:
        for item in ahead:
            if item == 3:
                break

    assert len(produced) <= 4 + 2 + 1  # consumed, queued, in hand
