"""Parsing rules: what a JobNimbus payload becomes, and which values are refused (with why)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gcc_pipeline.jobnimbus.records import (
    RecordError,
    epoch,
    money,
    parse_activity,
    parse_job,
    parse_payment,
    parse_workorder,
)
from gcc_pipeline.warehouse.copy import encode


def test_epoch_zero_means_not_set_and_seconds_become_aware_datetimes() -> None:
    assert epoch(0, "d") is None
    assert epoch(None, "d") is None
    assert epoch(1700000000, "d") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "reason"),
    [(-5, "negative"), (1700000000000, "milliseconds"), ("soon", "not a number"),
     (float("nan"), "finite"), (True, "boolean")],
)  # fmt: skip
def test_impossible_dates_are_refused_with_a_reason(value: object, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        epoch(value, "date_updated")


def test_money_is_rounded_to_cents_and_text_that_is_not_a_number_is_refused() -> None:
    assert money(19.999, "total") == Decimal("20.00")
    assert money("12.50", "total") == Decimal("12.50")
    with pytest.raises(RecordError, match="not a number"):
        money("12,50", "total")


def test_a_payment_whose_primary_is_an_invoice_takes_its_job_from_related() -> None:
    payment = {
        "jnid": "p1", "total": 100.0, "credit": 15.0, "refunded_amount": 5.0,
        "primary": {"id": "inv9", "type": "invoice"},
        "related": [{"id": "inv9", "type": "invoice"}, {"id": "job7", "type": "job"}],
        "invoices": [{"amount": 60.0, "jnid": "inv9"}], "method_id": 3,
    }  # fmt: skip
    row = parse_payment(payment)
    assert (row["job_id"], row["invoice_id"]) == ("job7", "inv9")
    assert row["net_amount"] == Decimal("85.00")
    assert row["total_paid"] == Decimal("80.00")
    assert row["balance"] == Decimal("25.00")
    assert row["payment_method"] == "Credit Card"


def test_a_job_named_jane_tester_or_of_a_legacy_type_is_kept_but_flagged() -> None:
    job = {"jnid": "j1", "record_type_name": "Legacy (Bob's Workflow)",
           "primary": {"id": "c1", "type": "contact", "name": "Jane Tester"}}  # fmt: skip
    row = parse_job(job)
    assert row["is_test"] and row["is_legacy"]
    assert row["primary_contact_id"] == "c1"


def test_a_work_order_with_subcontractors_is_a_subcontractor_cost() -> None:
    row = parse_workorder(
        {
            "jnid": "w1",
            "total_line_item_cost": 420.5,
            "subcontractors": [{"name": "Roof Pros"}],
            "related": [{"id": "job1", "type": "job"}],
        }
    )
    assert (row["expense_type"], row["vendor"], row["amount"], row["job_id"]) == (
        "subcontractor",
        "Roof Pros",
        Decimal("420.50"),
        "job1",
    )


@pytest.mark.parametrize(
    "note", ["Status: Bob's Estimate Sent => Signed Contract",
             "Status changed from Bob's Estimate Sent to Signed Contract"],
)  # fmt: skip
def test_both_status_note_formats_give_the_same_change(note: str) -> None:
    row = parse_activity(
        {
            "jnid": "a1",
            "is_status_change": True,
            "note": note,
            "date_created": 1700000000,
            "primary": {"id": "job1", "type": "job"},
        }
    )
    assert row is not None
    assert (row["job_id"], row["previous_status_name"], row["status_name"]) == (
        "job1",
        "Bob's Estimate Sent",
        "Signed Contract",
    )


def test_plain_notes_are_not_status_changes_and_garbled_ones_are_refused() -> None:
    when = 1700000000
    assert parse_activity({"jnid": "a2", "note": "Called them", "date_created": when}) is None
    with pytest.raises(RecordError, match="not understood"):
        parse_activity(
            {"jnid": "a3", "is_status_change": True, "note": "moved", "date_created": when}
        )


def test_copy_encoding_escapes_what_copy_text_format_treats_specially() -> None:
    assert encode("a\\b\tc\nd") == "a\\\\b\\tc\\nd"
    assert encode(None) == "\\N"
    assert encode(["x", 'say "hi"']) == '{"x","say \\\\"hi\\\\""}'
