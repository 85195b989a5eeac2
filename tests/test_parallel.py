"""Order-keeping thread stages: results in input order, bounded, errors where they belong."""

from __future__ import annotations

import threading
import time

import pytest

from thresher.parallel import cores, ordered_chain, ordered_map, prefetch


def test_ordered_map_keeps_the_order_and_gives_each_thread_its_own_state():
    seen: dict[int, set] = {}

    def fn(state, item):
        time.sleep(0.001 * (item % 3))  # finish out of order
        seen.setdefault(id(state), set()).add(threading.get_ident())
        return state["k"] * item

    states = [{"k": 10}, {"k": 10}, {"k": 10}]
    assert list(ordered_map(fn, range(30), states)) == [10 * i for i in range(30)]
    assert all(len(threads) == 1 for threads in seen.values())  # a state stays on one thread


def test_ordered_map_takes_a_bounded_number_of_items_ahead():
    taken = []

    def items():
        for i in range(100):
            taken.append(i)
            yield i

    results = ordered_map(lambda _, x: x, items(), [None, None], ahead=1)
    assert next(results) == 0
    assert len(taken) <= 4
    results.close()


def test_ordered_map_raises_at_the_failing_item_and_stops():
    def fn(_, item):
        if item == 5:
            raise ValueError("item 5")
        return item

    got = []
    with pytest.raises(ValueError, match="item 5"):
        for value in ordered_map(fn, range(20), [None, None]):
            got.append(value)
    assert got == [0, 1, 2, 3, 4]


def test_ordered_chain_chains_in_order_with_several_readers():
    def maker(k):
        def make():
            for i in range(k * 7 % 5 + 1):
                time.sleep(0.001 * ((k + i) % 2))
                yield (k, i)

        return make

    expected = [(k, i) for k in range(12) for i in range(k * 7 % 5 + 1)]
    for readers in (1, 2, 4):
        assert list(ordered_chain([maker(k) for k in range(12)], readers=readers, depth=2)) == expected


def test_ordered_chain_raises_where_the_maker_failed_and_can_be_left_early():
    def good():
        yield from range(3)

    def bad():
        yield "a"
        raise OSError("unreadable")

    got = []
    with pytest.raises(OSError, match="unreadable"):
        for item in ordered_chain([good, bad, good], readers=2):
            got.append(item)
    assert got == [0, 1, 2, "a"]
    endless = ordered_chain([lambda: iter(int, 1)] * 3, readers=2, depth=2)  # never-ending makers
    assert next(endless) == 0
    endless.close()  # stops the producer threads


def test_a_finished_maker_frees_its_thread_for_the_next_while_an_earlier_one_is_slow():
    third_started = threading.Event()

    def slow():
        assert third_started.wait(10), "the third maker never started while the first was still producing"
        yield "slow"

    def quick():
        yield "quick"

    def third():
        third_started.set()
        yield "third"

    assert list(ordered_chain([slow, quick, third], readers=2)) == ["slow", "quick", "third"]


def test_prefetch_reads_ahead_on_a_thread_and_raises_where_the_items_failed():
    producers = []

    def items():
        for i in range(5):
            producers.append(threading.current_thread().name)
            yield i
        raise OSError("cut short")

    got = []
    with pytest.raises(OSError, match="cut short"):
        for item in prefetch(items(), depth=2):
            got.append(item)
    assert got == [0, 1, 2, 3, 4] and set(producers) == {"thresher-read"}


def test_ordered_chain_needs_a_reader():
    with pytest.raises(ValueError, match="readers must be at least 1, got 0"):
        next(ordered_chain([lambda: iter([1])], readers=0))


def test_cores_is_at_least_one():
    assert cores() >= 1
