"""Failed runs: recorded in gcc_run_failures and posted to GCC_FAILURE_WEBHOOK_URL, whether the
run failed under the daemon (the run-failure sensor) or in `gcc run` itself."""

from typing import Any

import requests

from gcc_pipeline.warehouse.queries import query


def post(webhook_url: str, payload: dict[str, Any]) -> str:
    """The webhook's HTTP status, or the kind of error (the URL itself is never echoed)."""
    try:
        return str(requests.post(webhook_url, json=payload, timeout=10).status_code)
    except requests.RequestException as exc:
        return f"error: {type(exc).__name__}"


def record_failure(
    conn: Any, *, run_id: str, job_name: str, message: str, webhook_url: str = ""
) -> None:
    message = (message or "run failed")[:2000]
    status = None
    if webhook_url:
        status = post(webhook_url, {"run_id": run_id, "job": job_name, "message": message})
    with conn, conn.cursor() as cur:
        cur.execute(
            query("record_run_failure"),
            {"run_id": run_id, "job_name": job_name, "message": message,
             "webhook_status": status},
        )  # fmt: skip
