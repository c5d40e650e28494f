"""Fault injection settings: what share of API requests fail, and how.

Each rate is a probability per request, drawn from a seeded RNG in the server, so a test run with
the same request sequence sees the same faults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

_ALIASES = {
    "429": "rate_429",
    "500": "rate_500",
    "503": "rate_503",
    "slow": "rate_slow",
    "truncated": "rate_truncated",
    "truncate": "rate_truncated",
    "drop": "rate_drop",
}
KINDS = ("rate_429", "rate_500", "rate_503", "rate_slow", "rate_truncated", "rate_drop")


@dataclass
class FaultConfig:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_slow: float = 0.0
    rate_truncated: float = 0.0
    rate_drop: float = 0.0
    retry_after: float = 1.0  # seconds sent in Retry-After on 429 (0 allowed)
    slow_seconds: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        for k in KINDS:
            v = float(getattr(self, k))
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{k} must be between 0 and 1, got {v}")
            setattr(self, k, v)
        if self.total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {self.total:.3f} > 1")

    @property
    def total(self) -> float:
        return sum(getattr(self, k) for k in KINDS)

    @property
    def active(self) -> bool:
        return self.total > 0

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """``"429=0.05,500=0.02,slow=0.01,retry_after=0,slow_seconds=1"`` -> FaultConfig."""
        kw: dict[str, Any] = {}
        for part in (spec or "").split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise ValueError(f"bad fault spec {part!r}: expected kind=rate")
            key, _, val = part.partition("=")
            key = key.strip().lower()
            name = _ALIASES.get(key, key)
            if name not in {f.name for f in fields(cls)}:
                raise ValueError(f"unknown fault kind {key!r}")
            kw[name] = int(val) if name == "seed" else float(val)
        return cls(**kw)

    @classmethod
    def uniform(cls, total: float, **extra: Any) -> FaultConfig:
        """Spread ``total`` evenly over every kind of fault (slow ones made short for tests)."""
        each = total / len(KINDS)
        extra.setdefault("slow_seconds", 0.5)
        return cls(**{k: each for k in KINDS}, **extra)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        names = {f.name for f in fields(cls)}
        kw = {}
        for key, val in data.items():
            name = _ALIASES.get(str(key), str(key))
            if name not in names:
                raise ValueError(f"unknown fault field {key!r}")
            kw[name] = val
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
