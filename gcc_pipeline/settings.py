"""Environment-driven settings: the one place that reads (and, for child processes, writes)
configuration variables. Everything else receives a `Settings` or a Dagster resource field.

Validation happens here, once, so a bad value is one line at start-up instead of an error deep
inside a run (`GCC_START_DATE` in the future, `GCC_SANDBOX_JOBS=abc`, a bogus cron string).
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_START_DATE = "2025-11-01"
DEFAULT_BASE_URL = "https://app.jobnimbus.com/api1"
DEFAULT_INCREMENTAL_CRON = "7 * * * *"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
STAGE_MAPPINGS_FILE = Path(__file__).resolve().parent / "stage_mappings.yaml"
ACCOUNT_FILE = "account.json"  # the account facts `gcc` read from the API (time zone)

# Set by `gcc` for the processes it starts, so they need not resolve the servers again.
WAREHOUSE_URL_ENV = "GCC_WAREHOUSE_URL"
DAGSTER_STORAGE_URL_ENV = "GCC_DAGSTER_STORAGE_URL"

_FALSE = ("0", "false", "no", "off")


class ConfigError(Exception):
    """A configuration problem the user can fix; printed as one line, never a traceback."""


@dataclass(frozen=True)
class SandboxSettings:
    jobs: int = 2000
    seed: int = 1
    history_days: int = 365


@dataclass(frozen=True)
class Settings:
    home: Path
    postgres_url: str | None
    dagster_postgres_url: str | None
    timezone: str
    timezone_source: str  # "GCC_TIMEZONE", "the account" or "default"
    start_date: str
    jobnimbus_api_key: str | None = field(repr=False)
    jobnimbus_base_url: str
    requests_per_minute: int
    max_concurrency: int
    block_on_unmapped_statuses: bool
    freshness_hours: float
    failure_webhook_url: str | None = field(repr=False)
    incremental_cron: str
    sandbox: SandboxSettings
    warehouse_url: str | None = field(repr=False)  # resolved by a parent `gcc` process
    dagster_storage_url: str | None = field(repr=False)
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 3001
    reader_role: str = "gcc_reader"

    @property
    def uses_sandbox(self) -> bool:
        return not self.jobnimbus_api_key

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not value > 0:
        raise ConfigError(f"{name}={raw!r} must be positive")
    return value


def _timezone(name: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}={value!r} is not an IANA time zone name") from None
    return value


def pinned_now(environ: Mapping[str, str] | None = None) -> tuple[datetime, float | None] | None:
    """GCC_NOW: `<instant>` freezes the clock there (tests, demos); `<instant>@<unix seconds>`
    lets it run from that instant as it stood at that real moment, the same for every process
    that inherits it (the test suite's setting). None: the real clock."""
    env = os.environ if environ is None else environ
    raw = (env.get("GCC_NOW") or "").strip()
    if not raw:
        return None
    instant, _, real = raw.partition("@")
    try:
        moment = datetime.fromisoformat(instant)
        since = float(real) if real else None
    except ValueError:
        raise ConfigError(
            f"GCC_NOW={raw!r} is not an ISO instant like 2026-12-31T23:59:00-06:00"
        ) from None
    if moment.tzinfo is None:
        raise ConfigError(f"GCC_NOW={raw!r} needs a UTC offset (e.g. -06:00 or Z)")
    return moment.astimezone(UTC), since


def _start_date(env: Mapping[str, str]) -> str:
    start = (env.get("GCC_START_DATE") or "").strip() or DEFAULT_START_DATE
    try:
        parsed = date.fromisoformat(start)
    except ValueError:
        raise ConfigError(f"GCC_START_DATE={start!r} is not a YYYY-MM-DD date") from None
    from gcc_pipeline.clock import reading

    today = reading(pinned_now(env)).date()
    if parsed > today:
        raise ConfigError(f"GCC_START_DATE={start} is in the future: history starts before today")
    return parsed.isoformat()


def _cron(env: Mapping[str, str]) -> str:
    from dagster._utils.schedules import is_valid_cron_string

    cron = (env.get("GCC_INCREMENTAL_CRON") or "").strip() or DEFAULT_INCREMENTAL_CRON
    if not is_valid_cron_string(cron):
        raise ConfigError(
            f"GCC_INCREMENTAL_CRON={cron!r} is not a cron expression like '7 * * * *'"
        )
    return cron


def account_timezone(home: Path) -> str | None:
    """The time zone `gcc` last read from the account (see `remember_account_timezone`)."""
    try:
        return json.loads((home / ACCOUNT_FILE).read_text()).get("timezone") or None
    except (OSError, ValueError):
        return None


def remember_account_timezone(home: Path, timezone: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / ACCOUNT_FILE).write_text(json.dumps({"timezone": timezone}))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every variable the README documents."""
    env = os.environ if environ is None else environ
    home = Path(env.get("GCC_HOME") or Path.cwd() / ".gcc").expanduser().resolve()
    api_key = env.get("JOBNIMBUS_API_KEY") or None
    if env.get("GCC_TIMEZONE"):
        timezone, source = _timezone("GCC_TIMEZONE", env["GCC_TIMEZONE"].strip()), "GCC_TIMEZONE"
    elif api_key and (remembered := account_timezone(home)):
        timezone, source = _timezone("the account's time zone", remembered), "the account"
    else:
        # The built-in sandbox (no key) reports in UTC; a real account without GCC_TIMEZONE is
        # resolved by `gcc` (environment.resolve_account_timezone) before anything depends on it.
        timezone, source = "UTC", "default"
    return Settings(
        home=home,
        postgres_url=env.get("POSTGRES_URL") or None,
        dagster_postgres_url=env.get("DAGSTER_POSTGRES_URL") or None,
        timezone=timezone,
        timezone_source=source,
        start_date=_start_date(env),
        jobnimbus_api_key=api_key,
        jobnimbus_base_url=(env.get("JOBNIMBUS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        requests_per_minute=_int(env, "JOBNIMBUS_REQUESTS_PER_MINUTE", 0),
        max_concurrency=_int(env, "JOBNIMBUS_MAX_CONCURRENCY", 4, minimum=1),
        block_on_unmapped_statuses=(env.get("GCC_BLOCK_ON_UNMAPPED_STATUSES") or "").strip().lower()
        not in _FALSE,
        freshness_hours=_float(env, "GCC_FRESHNESS_HOURS", 48.0),
        failure_webhook_url=env.get("GCC_FAILURE_WEBHOOK_URL") or None,
        incremental_cron=_cron(env),
        sandbox=SandboxSettings(
            jobs=_int(env, "GCC_SANDBOX_JOBS", 2000, minimum=1),
            seed=_int(env, "GCC_SANDBOX_SEED", 1),
            history_days=_int(env, "GCC_SANDBOX_HISTORY_DAYS", 365, minimum=1),
        ),
        warehouse_url=env.get(WAREHOUSE_URL_ENV) or None,
        dagster_storage_url=env.get(DAGSTER_STORAGE_URL_ENV) or None,
        reader_role=(env.get("GCC_READER_ROLE") or "gcc_reader").strip(),
        webhook_host=(env.get("GCC_WEBHOOK_HOST") or "127.0.0.1").strip(),
        webhook_port=_int(env, "GCC_WEBHOOK_PORT", 3001, minimum=1),
    )


def reader_password(environ: Mapping[str, str] | None = None) -> str | None:
    """GCC_READER_PASSWORD, read only by `gcc db grant-reader` (never kept in Settings); None when
    unset (a password is then generated and shown once)."""
    env = os.environ if environ is None else environ
    return env.get("GCC_READER_PASSWORD") or None


def webhook_secret(environ: Mapping[str, str] | None = None) -> str | None:
    """JOBNIMBUS_WEBHOOK_SECRET (the header X-JN-Secret's value), read only by the webhook
    receiver and the sandbox that posts webhooks; never kept in Settings, so it cannot reach a
    repr, a log or run metadata. None when unset: the receiver then refuses to start."""
    env = os.environ if environ is None else environ
    return env.get("JOBNIMBUS_WEBHOOK_SECRET") or None


def export(variables: Mapping[str, str]) -> None:
    """Pass values to the processes this one starts (Dagster reads some from the environment)."""
    os.environ.update(variables)


def child_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus `variables`, for a subprocess."""
    return {**os.environ, **variables}


def enable_dagster_event_batching(size: int = 1000) -> None:
    """Dagster stores the per-partition events of one output in one INSERT when
    DAGSTER_EVENT_BATCH_SIZE is set (opt-in, read at each write): a range run then costs a few
    round trips per asset instead of one per partition, which matters on a hosted database."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(size))
