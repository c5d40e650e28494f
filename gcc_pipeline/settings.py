"""Environment-driven settings: the one place that reads configuration variables."""

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_START_DATE = "2025-11-01"
DEFAULT_BASE_URL = "https://app.jobnimbus.com/api1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
STAGE_MAPPINGS_FILE = Path(__file__).resolve().parent / "stage_mappings.yaml"


class ConfigError(Exception):
    """A configuration problem the user can fix; printed as one line, never a traceback."""


@dataclass(frozen=True)
class Settings:
    home: Path
    postgres_url: str | None
    timezone: str
    start_date: str
    jobnimbus_api_key: str | None
    jobnimbus_base_url: str

    @property
    def uses_sandbox(self) -> bool:
        return not self.jobnimbus_api_key


def load_settings() -> Settings:
    """Read and validate every variable the README documents."""
    home = Path(os.environ.get("GCC_HOME") or Path.cwd() / ".gcc").expanduser().resolve()
    tz = os.environ.get("GCC_TIMEZONE") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"GCC_TIMEZONE={tz!r} is not an IANA time zone name") from None
    start = os.environ.get("GCC_START_DATE") or DEFAULT_START_DATE
    try:
        date.fromisoformat(start)
    except ValueError:
        raise ConfigError(f"GCC_START_DATE={start!r} is not a YYYY-MM-DD date") from None
    return Settings(
        home=home,
        postgres_url=os.environ.get("POSTGRES_URL") or None,
        timezone=tz,
        start_date=start,
        jobnimbus_api_key=os.environ.get("JOBNIMBUS_API_KEY") or None,
        jobnimbus_base_url=os.environ.get("JOBNIMBUS_BASE_URL") or DEFAULT_BASE_URL,
    )
