"""The hostile corpus of the sandbox (`hostile=True`), case by case: every malformed record lands in
jobnimbus_quarantine with its specific reason or is stored safely by the rule that covers it,
every good record around it loads, and the run's metadata counts what was quarantined."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg2
import pytest

from gcc_pipeline.sandbox.hostile import BIG_NOTE_CHARS, LONG_JNID
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import first_day, full_backfill, materialize_range, sandbox

# (resource, jnid as served) -> the start of the quarantine reason it must get
QUARANTINED = {
    ("jobs", None): "missing jnid",
    ("jobs", LONG_JNID): "jnid longer than 200 characters",
    ("jobs", "jHOSTILESTRNUM"): "approved_estimate_total is not a number: '1.234,56'",
    ("jobs", "jHOSTILENAN"): "payload holds NaN or Infinity",
    ("jobs", "jHOSTILEEPOCH"): "date_created is a negative epoch",
    ("jobs", "jHOSTILEMSEPOCH"): "date_status_change is beyond 2100, probably milliseconds",
    ("jobs", "jHOSTILETEXT"): "payload holds a NUL character",
    ("jobs", "jHOSTILESURROGATE"): "payload holds an unpaired UTF-16 surrogate",
    ("payments", None): "missing jnid",
    ("payments", "pHOSTILESTRNUM"): "total is not a number: '12,50'",
    ("payments", "pHOSTILENAN"): "payload holds NaN or Infinity",
    ("payments", "pHOSTILEEPOCH"): "date_created is a negative epoch",
    ("payments", "pHOSTILETEXT"): "payload holds a NUL character",
}
# Payloads jsonb cannot hold are quarantined with an excerpt and no raw event.
UNSTORABLE = {"jHOSTILENAN", "jHOSTILETEXT", "jHOSTILESURROGATE", "pHOSTILENAN", "pHOSTILETEXT"}
STORED = {
    "jobs": {"jHOSTILENULLS", "jHOSTILERTYPE", "jHOSTILEBIG", "jHOSTILEDUP", "jHOSTILEFUTURE"},
    "payments": {"pHOSTILENULLS", "pHOSTILENOJOB", "pHOSTILEDUP"},
}
ENTITY = {"jobs": "job", "payments": "payment"}


@dataclass
class Loaded:
    company: Any
    url: str
    result: Any
    server: Any

    def rows(self, statement: str, params: tuple = ()) -> list[tuple]:
        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            rows = cur.fetchall()
        conn.close()
        return rows

    def good(self, resource: str) -> set[str]:
        """jnids of the records the sandbox serves that are not part of the hostile corpus."""
        hostile = set(self.company.hostile_ids().get(resource, []))
        return {
            r["jnid"]
            for r in self.company.records(resource)
            if isinstance(r.get("jnid"), str) and r["jnid"] not in hostile
        }


@pytest.fixture(scope="module")
def loaded(pg_server_url: str) -> Iterator[Loaded]:
    url = create_database(pg_server_url)
    migrate(url)
    try:
        with sandbox(jobs=80, seed=4, history_days=60, hostile=True) as server:
            result = full_backfill(server, url)
            yield Loaded(server.company, url, result, server)
    finally:
        drop_database(pg_server_url, url)


def _quarantine_id(jnid: str | None) -> str:
    if jnid is None:
        return ""
    return jnid if len(jnid) <= 200 else "invalid:"


@pytest.mark.parametrize(
    ("resource", "jnid"),
    list(QUARANTINED),
    ids=[f"{r}:{(j or 'None')[:20]}" for r, j in QUARANTINED],
)
def test_each_malformed_record_is_quarantined_with_its_reason(
    loaded: Loaded, resource: str, jnid: str | None
) -> None:
    assert loaded.result.success
    entity_id = _quarantine_id(jnid)
    rows = loaded.rows(
        """SELECT entity_id, reason, raw_event_id, payload_excerpt IS NOT NULL
           FROM jobnimbus_quarantine WHERE entity_type = %s AND left(entity_id, %s) = %s""",
        (ENTITY[resource], len(entity_id), entity_id),
    )
    if jnid is None:
        rows = [r for r in rows if r[0] == ""]
    reasons = [r[1] for r in rows]
    assert len(rows) == 1, reasons
    assert reasons[0].startswith(QUARANTINED[(resource, jnid)])
    _, _, raw_event_id, has_excerpt = rows[0]
    if jnid in UNSTORABLE:
        assert raw_event_id is None and has_excerpt  # kept as an escaped excerpt, not as jsonb
    else:
        assert raw_event_id is not None and not has_excerpt  # the payload is in the raw events
    if jnid is not None:
        table = "jobs" if resource == "jobs" else "payments"
        assert loaded.rows(f"SELECT count(*) FROM {table} WHERE id = %s", (jnid,)) == [(0,)]


def test_a_10000_character_jnid_is_stored_raw_under_a_hashed_id(loaded: Loaded) -> None:
    ((entity_id, size),) = loaded.rows(
        "SELECT entity_id, length(payload->>'jnid') FROM jobnimbus_raw_events "
        "WHERE entity_type = 'job' AND entity_id LIKE 'invalid:%%'"
    )
    assert size == 10_000 and len(entity_id) <= 200


def test_nulls_where_objects_belong_are_tolerated(loaded: Loaded) -> None:
    job = loaded.rows(
        "SELECT primary_contact_id, owners, tags, stage FROM jobs WHERE id = 'jHOSTILENULLS'"
    )
    assert job == [(None, [], [], "Lead")]
    payment = loaded.rows("SELECT job_id, amount, balance FROM payments WHERE id = 'pHOSTILENULLS'")
    assert payment == [(None, 100, 100)]


def test_an_unknown_record_type_is_kept_with_stage_null(loaded: Loaded) -> None:
    assert loaded.rows(
        "SELECT record_type_id, record_type_name, status_name, stage, is_won FROM jobs "
        "WHERE id = 'jHOSTILERTYPE'"
    ) == [(999_999, "Mystery Workflow", "Under Review", None, False)]


def test_a_payment_on_an_unknown_job_is_kept_with_its_link(loaded: Loaded) -> None:
    assert loaded.rows("SELECT job_id FROM payments WHERE id = 'pHOSTILENOJOB'") == [
        ("jDOESNOTEXIST",)
    ]


def test_a_5mb_payload_is_stored_whole(loaded: Loaded) -> None:
    raw = loaded.rows(
        "SELECT length(payload->>'description') FROM jobnimbus_raw_events "
        "WHERE entity_id = 'jHOSTILEBIG'"
    )
    assert raw == [(BIG_NOTE_CHARS,)]
    assert loaded.rows(
        "SELECT name, length(raw->>'description') FROM jobs WHERE id = 'jHOSTILEBIG'"
    ) == [("very large payload", BIG_NOTE_CHARS)]


def test_every_good_record_around_the_bad_ones_loads(loaded: Loaded) -> None:
    for resource in ("jobs", "payments", "contacts"):
        stored = {i for (i,) in loaded.rows(f"SELECT id FROM {resource}")}
        expected = loaded.good(resource) | STORED.get(resource, set())
        assert stored == expected, resource
    expenses = {i for (i,) in loaded.rows("SELECT id FROM expenses")}
    assert expenses == loaded.good("workorders") | loaded.good("materialorders")
    quarantined = {i for (i,) in loaded.rows("SELECT entity_id FROM jobnimbus_quarantine")}
    assert not quarantined & (loaded.good("jobs") | loaded.good("payments"))


def test_the_run_metadata_and_the_ingestion_log_count_the_quarantined(loaded: Loaded) -> None:
    for resource in ("jobs", "payments"):
        in_table = loaded.rows(
            "SELECT count(*) FROM jobnimbus_quarantine WHERE entity_type = %s",
            (ENTITY[resource],),
        )[0][0]
        assert in_table == sum(1 for r, _ in QUARANTINED if r == resource)
        metadata = [
            e.materialization.metadata
            for e in loaded.result.get_asset_materialization_events()
            if e.materialization.asset_key.to_user_string() == resource
        ]
        assert metadata and sum(m["quarantined"].value for m in metadata) == in_table
        assert {m["run_quarantined"].value for m in metadata} == {in_table}
        reasons = metadata[0]["quarantine_reasons"].value
        for (r, _), reason in QUARANTINED.items():
            if r == resource:
                assert reason.split(" (")[0].split(":")[0] in reasons
        logged = loaded.rows(
            "SELECT sum(quarantined) FROM jobnimbus_ingestion_log WHERE resource = %s",
            (resource,),
        )
        assert logged == [(in_table,)]


def test_a_rerun_quarantines_nothing_twice(loaded: Loaded) -> None:
    before = loaded.rows("SELECT count(*) FROM jobnimbus_quarantine")
    today = datetime.fromtimestamp(loaded.company.now, tz=UTC).date()
    result = materialize_range(
        loaded.server,
        loaded.url,
        first_day(loaded.server),
        today,
        selection=["jobs", "payments"],
    )
    assert result.success
    assert loaded.rows("SELECT count(*) FROM jobnimbus_quarantine") == before


def test_a_duplicate_jnid_within_a_page_leaves_one_row(loaded: Loaded) -> None:
    assert loaded.rows("SELECT count(*) FROM jobs WHERE id = 'jHOSTILEDUP'") == [(1,)]
    assert loaded.rows("SELECT count(*) FROM payments WHERE id = 'pHOSTILEDUP'") == [(1,)]


def test_a_second_copy_of_a_jnid_within_a_window_is_kept_raw_and_the_newer_copy_wins(
    loaded: Loaded,
) -> None:
    """Stored safely, not dropped: both payloads land raw, the normalized row is the newer one
    (the same rule that makes reruns converge)."""
    assert loaded.rows(
        "SELECT count(*) FROM jobnimbus_raw_events WHERE entity_id = ANY(%s)",
        (["jHOSTILEDUP", "pHOSTILEDUP"],),
    ) == [(4,)]
    assert loaded.rows("SELECT status_name FROM jobs WHERE id = 'jHOSTILEDUP'") == [("Estimating",)]
    assert loaded.rows("SELECT amount FROM payments WHERE id = 'pHOSTILEDUP'") == [
        (Decimal("75.00"),)
    ]
