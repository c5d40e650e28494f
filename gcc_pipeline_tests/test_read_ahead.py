"""Reading a window's pages ahead of its landing (sync/read_ahead.py)."""

import threading

import pytest

from gcc_pipeline.sync.read_ahead import read_ahead


def test_every_item_arrives_once_in_order() -> None:
    assert list(read_ahead(range(2503), batch=100, depth=2)) == list(range(2503))


def test_a_reading_failure_is_raised_after_the_items_read_before_it() -> None:
    def pages():
        yield from range(250)
        raise ConnectionError("the API went away")

    got = []
    with pytest.raises(ConnectionError, match="went away"):
        for item in read_ahead(pages(), batch=100):
            got.append(item)
    assert got == list(range(250))


def test_the_reader_reads_at_most_depth_batches_ahead_and_stops_when_the_consumer_does() -> None:
    read = []

    def pages():
        for i in range(10_000):
            read.append(i)
            yield i

    ahead = read_ahead(pages(), batch=10, depth=2)
    assert next(ahead) == 0
    ahead.close()  # the consumer stops (a landing failure)

    assert len(read) <= 10 * (2 + 2)  # the chunk handed over, two queued, one being read
    assert not [t for t in threading.enumerate() if t.name.endswith("-ahead")]
