"""Exceptions raised by the JobNimbus client.

Messages name the API path and, where useful, a short excerpt of the body, so a failed Dagster run
says what went wrong without anyone re-running it by hand. They never contain the API key.
"""

from __future__ import annotations

EXCERPT_CHARS = 200


def excerpt(body: bytes | str | None, limit: int = EXCERPT_CHARS) -> str:
    """Return a one-line excerpt of a response body of at most ``limit`` characters."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class JobNimbusError(RuntimeError):
    """Any failure talking to JobNimbus: HTTP errors, bad bodies, exhausted retries."""

    def __init__(self, message: str, *, path: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.status = status


class AuthError(JobNimbusError):
    """The API key was rejected (HTTP 401/403): retrying cannot help, the key must change."""


class NotFoundError(JobNimbusError):
    """The path does not exist (HTTP 404): usually a wrong base URL or an endpoint not enabled."""
