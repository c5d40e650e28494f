"""Client pieces that need no server: the rate limiter's arithmetic, reprs, window bounds."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gcc_pipeline.jobnimbus import (
    AuthError,
    JobNimbusClient,
    JobNimbusResource,
    RateLimiter,
    to_epoch,
)

KEY = "unit-test-secret-key-4f1b"


class FakeClock:
    """A clock that only moves when slept on, so limiter waits are exact."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:  # ok: a fake clock's sleep, it only advances now
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_requests() -> None:
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(10)]
    assert waits[0] == 0
    assert waits[1:] == pytest.approx([0.1] * 9)
    assert limiter.total_wait == pytest.approx(0.9)
    # Time spent elsewhere counts towards the interval: no wait after a long pause.
    clock.now += 5
    assert limiter.acquire() == 0
    clock.now += 0.04
    assert limiter.acquire() == pytest.approx(0.06)


def test_rate_limiter_zero_is_unlimited() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(100)] == [0.0] * 100
    assert clock.sleeps == []


def test_reprs_hide_the_key() -> None:
    resource = JobNimbusResource(api_key=KEY, base_url="http://127.0.0.1:9/api1")
    client = resource.get_client()
    for text in (repr(resource), str(resource), repr(client), str(client)):
        assert KEY not in text
    assert "127.0.0.1" in repr(client)
    client.close()


def test_missing_key_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="JOBNIMBUS_API_KEY"):
        JobNimbusClient("http://127.0.0.1:9/api1", api_key="")


def test_to_epoch_bounds() -> None:
    assert to_epoch(datetime(2024, 1, 1, tzinfo=UTC)) == 1704067200
    assert to_epoch(datetime(2024, 1, 1)) == 1704067200  # naive = UTC
    est = timezone(timedelta(hours=-5))
    assert to_epoch(datetime(2023, 12, 31, 19, tzinfo=est)) == 1704067200
    # A fractional bound rounds up: [start, end) over whole seconds keeps its meaning.
    assert to_epoch(datetime(2024, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)) == 1704067201
