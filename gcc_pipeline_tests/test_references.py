"""Records that loaded rows point at are fetched by id when the warehouse lacks them: a payment
made after GCC_START_DATE whose job last changed before it still finds its job (and the job its
contact), so revenue never lands under '(unassigned)' because of the start date."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg2

from gcc_pipeline.partitions import month_key
from gcc_pipeline.resources import AccountResource
from gcc_pipeline_tests.pipeline import ANCHOR, pipeline_assets, resources, sandbox

START = ANCHOR - timedelta(days=40)  # GCC_START_DATE: well inside the company's year


def test_a_start_date_never_orphans_a_payment(warehouse_url: str) -> None:
    with sandbox(jobs=250, seed=7, history_days=365) as server:
        company = server.company
        given = resources(server, warehouse_url) | {
            "account": AccountResource(timezone="UTC", start_date=START.date().isoformat())
        }
        result = dg.materialize(
            pipeline_assets(), resources=given, instance=dg.DagsterInstance.ephemeral(),
            tags={"dagster/asset_partition_range_start": month_key(START),
                  "dagster/asset_partition_range_end": month_key(ANCHOR)},
        )  # fmt: skip
        jobs = {j["jnid"]: j for j in company.records("jobs")}

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["payments_link_to_jobs"].passed
    with psycopg2.connect(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, extract(epoch FROM date_updated)::bigint FROM jobs")
        stored = dict(cur.fetchall())
        cur.execute("SELECT DISTINCT job_id FROM payments WHERE job_id IS NOT NULL")
        paid_for = {row[0] for row in cur.fetchall()}
        cur.execute("SELECT DISTINCT primary_contact_id FROM jobs WHERE primary_contact_id > ''")
        named = {row[0] for row in cur.fetchall()}
        cur.execute("SELECT id FROM contacts")
        stored_contacts = {row[0] for row in cur.fetchall()}
        cur.execute(
            "SELECT resource, sum(fetched), sum(requests) FROM jobnimbus_ingestion_log "
            "WHERE window_start IS NULL GROUP BY resource"
        )
        by_id = {r: (int(f), int(q)) for r, f, q in cur.fetchall()}
    conn.close()

    floor = START.timestamp()
    older = {i for i in paid_for if jobs[i]["date_updated"] < floor}
    assert older, "the company has payments inside the window for jobs last changed before it"
    assert paid_for <= set(stored) and named <= stored_contacts
    assert {stored[i] for i in older} == {jobs[i]["date_updated"] for i in older}  # as served
    fetched, requests = by_id["jobs"]
    assert fetched >= len(older) and requests <= fetched // 100 + 2  # ids asked 100 at a time
    assert datetime.fromtimestamp(min(jobs[i]["date_updated"] for i in older), UTC) < START
