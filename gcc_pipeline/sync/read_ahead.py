"""Read an iterator ahead in a thread of its own.

A window's keyset walk can only ask for its next page once the current one arrived, and the
thread that fetched it then spends as long parsing and landing it: without reading ahead, a
distant API's latency and the landing add up instead of overlapping. The reader holds at most
`depth` batches, so memory stays flat, and a failure on either side stops both.
"""

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()
_POLL_SECONDS = 0.1  # how soon a reader notices that its consumer stopped


def read_ahead(items: Iterable[T], *, batch: int, depth: int = 2) -> Iterator[T]:
    """Yield `items` in order while a thread reads up to `depth` batches of `batch` ahead.

    An exception raised while reading is raised here, at the point of the stream where it
    happened; closing this generator early stops the reader after its current item."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(thing: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(thing, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        chunk: list[T] = []
        try:
            for item in items:
                chunk.append(item)
                if len(chunk) == batch:
                    if not hand_over(chunk):
                        return
                    chunk = []
            end: object = _END
        except BaseException as exc:  # handed to the consumer, which raises it
            end = exc
        if not chunk or hand_over(chunk):  # what was read before the end lands first
            hand_over(end)

    reader = threading.Thread(target=read, name=f"{threading.current_thread().name}-ahead")
    reader.start()
    try:
        while True:
            chunk = ready.get()
            if chunk is _END:
                return
            if isinstance(chunk, BaseException):
                raise chunk
            yield from chunk
    finally:
        stop.set()
        reader.join()
