"""The living sandbox posts webhooks, as a JobNimbus automation ("Webhook POST") would: one per
record it creates or changes, with the shared-secret header, the record as the body, sometimes
wrapped in `body`, sometimes delivered twice (deliveries are at-least-once hints)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import requests

from .names import mix

if TYPE_CHECKING:
    from .company import Changes

# The triggers JobNimbus offers (Contact / Job / Task / Work Order / Material Order / Activity):
# payments (and invoices, estimates) have none, so their changes arrive by the poll only. A
# resource the company does not generate is skipped.
AUTOMATION_RESOURCES = ("contacts", "jobs", "tasks", "workorders", "materialorders", "activities")
SECRET_HEADER = "X-JN-Secret"

log = logging.getLogger("gcc.sandbox.webhooks")


def deliveries(
    changes: Mapping[str, Changes], resources: Iterable[str] = AUTOMATION_RESOURCES
) -> list[tuple[str, Any]]:
    """(URL query, JSON document) per webhook for these changes, in a fixed order: about one in
    three wrapped in `body`, one in eight sent twice."""
    out: list[tuple[str, Any]] = []
    for resource in resources:
        change = changes.get(resource)
        if change is None or not len(change.indices):
            continue
        for record, created in zip(change.payloads(resource), change.created.tolist(), strict=True):
            if not isinstance(record, dict):
                continue
            jnid = str(record.get("jnid", ""))
            event = "created" if created else "modified"
            if record.get("is_active") is False and not created:
                event = "deleted"
            h = mix(sum(map(ord, jnid)) * 2654435761 + (1 if created else 0))
            document = {"body": record} if h % 3 == 0 else record
            query = f"event={event}"
            out.append((query, document))
            if h % 8 == 1:
                out.append((query, document))
    return out


class WebhookSender:
    """Posts the webhooks of each clock move to a receiver (a failed post is logged, not retried:
    JobNimbus promises no retry either, and the poll catches up)."""

    def __init__(self, url: str, secret: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self._secret = secret
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self._session = requests.Session()
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the secret stays out of any repr
        return f"WebhookSender({self.url!r})"

    def send(self, changes: Mapping[str, Changes]) -> int:
        posted = 0
        for query, document in deliveries(changes):
            try:
                with self._lock:
                    response = self._session.post(
                        f"{self.url}?{query}", json=document, timeout=self.timeout,
                        headers={SECRET_HEADER: self._secret},
                    )  # fmt: skip
                ok = 200 <= response.status_code < 300
            except requests.RequestException as exc:
                ok = False
                log.warning("sandbox webhook not delivered: %s", type(exc).__name__)
            posted += ok
            self.sent += ok
            self.failed += not ok
        return posted

    def close(self) -> None:
        self._session.close()
