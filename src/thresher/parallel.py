"""Order-keeping parallel stages on threads: read ahead, compute on several model replicas.

Threads, not processes: video decoding (PyAV), image decoding and PNG/zlib encoding, OpenCV
DNN, onnxruntime and torch all release the GIL while they work, so N threads keep N cores
busy without copying frames between processes. Every stage yields its results in the order of
its inputs, so what is written (prediction files, embedding shards) is the same, in the same
order, whatever the number of threads.

- `ordered_map(fn, items, states)`: `fn(state, item)` for each item on one thread per state
  (a state is e.g. one model replica), results in input order, a bounded number in flight.
- `ordered_chain(makers, readers)`: the items of several iterators (one video's frames, a
  group of images) produced by up to `readers` threads at once, chained in order.
- `prefetch(items)`: one iterator read ahead on a thread.

Example: `list(ordered_map(lambda model, x: model * x, range(5), [10, 10]))` → `[0, 10, 20, 30, 40]`.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_DONE = object()


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def ordered_map(fn: Callable[[Any, T], R], items: Iterable[T], states: Sequence[Any], ahead: int = 1) -> Iterator[R]:
    """`fn(state, item)` for every item, each thread owning one of `states`; results in order.

    At most `len(states) + ahead` items are taken from `items` before their results are
    yielded (memory stays bounded). With one state everything runs on one extra thread,
    still overlapping `items`' own production and the caller's use of the results. An
    exception in `fn` is raised where its result would have been yielded; leaving the loop
    early cancels the items not started and waits for the running ones.
    """
    free: queue.SimpleQueue = queue.SimpleQueue()
    for state in states:
        free.put(state)
    local = threading.local()

    def bind() -> None:
        local.state = free.get()

    def call(item: T) -> R:
        return fn(local.state, item)

    pool = ThreadPoolExecutor(max_workers=len(states), initializer=bind, thread_name_prefix="thresher-compute")
    pending: deque = deque()
    try:
        for item in items:
            pending.append(pool.submit(call, item))
            while len(pending) > len(states) + ahead - 1:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def ordered_chain(makers: Iterable[Callable[[], Iterable[T]]], readers: int = 1, depth: int = 8, backlog: int | None = None) -> Iterator[T]:
    """The items of each maker's iterator, maker after maker, produced on up to `readers` threads.

    Each maker fills its own queue of `depth` items, so a long video streams through with
    bounded memory. At most `readers` makers produce at once; a maker that has finished frees
    its thread for the next one even while the consumer is still taking the items of an
    earlier, slower maker, up to `backlog` makers (default `readers`) started beyond those
    producing. An exception in a maker is raised at the point of its items where it happened.
    """
    if readers < 1:
        raise ValueError(f"ordered_chain: readers must be at least 1, got {readers}")
    makers = iter(makers)
    running: deque = deque()
    stop = threading.Event()
    turns = _Turns(readers)
    lanes = readers + (readers if backlog is None else backlog)

    def start() -> bool:
        maker = next(makers, None)
        if maker is None:
            return False
        lane: queue.Queue = queue.Queue(maxsize=depth)
        thread = threading.Thread(target=_produce, args=(maker, lane, stop, turns, turns.ticket()), daemon=True, name="thresher-read")
        thread.start()
        running.append((lane, thread))
        return True

    try:
        while len(running) < lanes and start():
            pass
        while running:
            lane, _ = running[0]
            while (item := lane.get()) is not _DONE:
                if isinstance(item, _Failure):
                    raise item.error
                yield item
            running.popleft()
            start()
    finally:
        stop.set()
        for lane, thread in running:
            while thread.is_alive():  # unblock a producer waiting on a full queue
                try:
                    lane.get_nowait()
                except queue.Empty:
                    thread.join(0.01)


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate `items` in a background thread, keeping up to `depth` ready ahead.

    Example: `list(prefetch(iter(range(3))))` → `[0, 1, 2]`.
    """
    return ordered_chain([lambda: items], readers=1, depth=depth)


class _Turns:
    """Producing places handed out in ticket order, at most `places` held at once (a later
    maker never takes the place the consumer's current maker is waiting for)."""

    def __init__(self, places: int):
        self._free, self._issued, self._next = places, 0, 0
        self._changed = threading.Condition()

    def ticket(self) -> int:
        self._issued += 1
        return self._issued - 1

    def take(self, ticket: int, stop: threading.Event) -> bool:
        """Wait for `ticket`'s turn and a free place; False when stopped first."""
        with self._changed:
            while not (self._next == ticket and self._free > 0):
                if stop.is_set():
                    return False
                self._changed.wait(0.05)
            self._next += 1
            self._free -= 1
            self._changed.notify_all()
            return True

    def give_back(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()


def _produce(maker: Callable[[], Iterable[Any]], lane: queue.Queue, stop: threading.Event, turns: _Turns, ticket: int) -> None:
    if not turns.take(ticket, stop):
        return
    try:
        for item in maker():
            if stop.is_set():
                return
            lane.put(item)
    except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
        lane.put(_Failure(exc))
        return
    finally:
        turns.give_back()
    lane.put(_DONE)


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error
