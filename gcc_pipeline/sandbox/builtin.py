"""The built-in sandbox `gcc` serves when no JOBNIMBUS_API_KEY is set: one company per GCC_HOME.

Its company is anchored at the moment it was first served (kept in GCC_HOME/sandbox.json), so
every later `gcc run`, `gcc dev` or run worker meets the same company with the same past, and
time only moves it forward: records appear as the clock passes their moment, never ahead of it.
"""

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from gcc_pipeline import clock
from gcc_pipeline.settings import Settings, load_settings

from .server import SandboxServer, start_sandbox

ANCHOR_FILE = "sandbox.json"
#: Days of the company's life drawn past its anchor: the built-in company lives for three years.
FUTURE_DAYS = 3 * 365


def anchor(home: Path) -> datetime:
    """When this GCC_HOME's company was first served (that moment is written down now if new)."""
    path = home / ANCHOR_FILE
    try:
        return datetime.fromisoformat(json.loads(path.read_text())["anchor"]).astimezone(UTC)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    moment = clock.now().replace(second=0, microsecond=0)
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"anchor": moment.isoformat()}) + "\n")
    return moment


def start_builtin(settings: Settings, api_key: str, *, live: bool = False) -> SandboxServer:
    """Serve this GCC_HOME's company as of the clock's now (`live`: and keep following it)."""
    box = settings.sandbox
    server = start_sandbox(
        jobs=box.jobs, seed=box.seed, api_key=api_key, history_days=box.history_days,
        anchor=anchor(settings.home), future_days=FUTURE_DAYS, live=live,
    )  # fmt: skip
    server.company.advance_to(clock.timestamp())
    return server


_shared: SandboxServer | None = None
_shared_lock = threading.Lock()


def shared() -> tuple[str, str]:
    """(base URL, key) of this process's built-in sandbox, started on first use and kept live:
    what a JobNimbus resource without an API key reads (plain `dagster dev`, its run workers)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start_builtin(load_settings(), secrets.token_hex(16), live=True)
        return _shared.base_url, _shared.api_key
