"""Parsing rules: what a JobNimbus payload becomes, and which values are refused (with why)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gcc_pipeline.jobnimbus.records import (
    RecordError,
    epoch,
    money,
    parse_activity,
    parse_contact,
    parse_estimate,
    parse_invoice,
    parse_job,
    parse_payment,
    parse_task,
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
            {"jnid": "a3", "is_status_change": True, "note": "moved", "date_created": when,
             "primary": {"id": "job1", "type": "job"}}
        )  # fmt: skip


def test_copy_encoding_escapes_what_copy_text_format_treats_specially() -> None:
    assert encode("a\\b\tc\nd") == "a\\\\b\\tc\\nd"
    assert encode(None) == "\\N"
    assert encode(["x", 'say "hi"']) == '{"x","say \\\\"hi\\\\""}'


# ---------------------------------------------------------------- issue 12: parsing defects

OWNERS_PAYMENT = {  # the payment of the owners' data dictionary, trimmed
    "jnid": "mi7kbioizzrqbf8aeuhank", "total": 3000, "credit": 0, "date_payment": 1763661600,
    "method_id": 1, "sales_rep": "m9bnef14vrcjniytbs5n0nb",
    "primary": {"id": "mf5mknzcpdwqm3tx4yifcc5", "type": "job"},
    "related": [{"id": "mf5mknzcpdwqm3tx4yifcc5", "type": "job"},
                {"id": "mf5mjnd4zpuy8iuu7j5sih6", "type": "contact"},
                {"id": "mg55gwaxbb3wd066c3kx344", "name": "#1143", "type": "invoice"}],
    "invoices": [{"amount": 3000, "invoice_id": "mg55gwaxbb3wd066c3kx344", "invoice_no": "1143",
                  "jnid": "mi7kbioizzrqbf8aeuhank_1"}],
}  # fmt: skip


def test_a_payment_links_its_invoice_not_its_own_invoice_line() -> None:
    """Defect 12: invoices[0].jnid is '<payment jnid>_1', the payment's line on the invoice."""
    assert parse_payment(OWNERS_PAYMENT)["invoice_id"] == "mg55gwaxbb3wd066c3kx344"
    without_lines = {**OWNERS_PAYMENT, "invoices": []}
    assert parse_payment(without_lines)["invoice_id"] == "mg55gwaxbb3wd066c3kx344"


def test_a_refund_is_kept_with_its_id_and_taken_off_what_was_paid() -> None:
    row = parse_payment({**OWNERS_PAYMENT, "refunded_amount": 3000, "refund_id": "rf_1"})
    assert (row["refund_id"], row["refunded_amount"], row["total_paid"]) == (
        "rf_1",
        Decimal("3000.00"),
        Decimal("0.00"),
    )


@pytest.mark.parametrize(
    "name", ["Jane Tester", "jane  TESTER", "Jane Tester Jr", "JANETESTER", "Roof - jane\ttester"]
)
def test_the_owners_test_record_is_recognised_in_any_spelling(name: str) -> None:
    """Defect 14: the owners match `jane\\s*tester` anywhere in a name, in any case."""
    job = parse_job({"jnid": "j1", "name": f"{name} - Repairs", "record_type_name": "Repairs"})
    first, _, last = name.partition(" ")
    contact = parse_contact({"jnid": "c1", "first_name": first, "last_name": last})
    assert job["is_test"] and contact["is_test"]
    assert not parse_job({"jnid": "j2", "name": "Jane Testa - Repairs"})["is_test"]


def _status_change(note: str, **fields: object) -> dict:
    return {
        "jnid": "a1",
        "is_status_change": True,
        "note": note,
        "date_created": 1700000000,
        "primary": {"id": "job1", "type": "job"},
        "related": [{"id": "job1", "type": "job"}, {"id": "c1", "type": "contact"}],
        **fields,
    }


@pytest.mark.parametrize(
    "note", ["Status: Estimate Sent => Signed Contract\nCustomer signed on site.\nCrew notified",
             "Status changed from Estimate Sent to Signed Contract\r\nby the mobile app"],
)  # fmt: skip
def test_a_multi_line_status_note_is_read_from_its_first_line(note: str) -> None:
    """Defect 13: the lines under the change are free text, not part of the status name."""
    row = parse_activity(_status_change(note))
    assert row is not None
    assert (row["previous_status_name"], row["status_name"]) == ("Estimate Sent", "Signed Contract")


def test_a_status_change_of_a_contact_is_not_a_job_status_change() -> None:
    """Defect 5: a contact's status moved; its job only appears in related."""
    contact_change = _status_change(
        "Status: New => Active",
        primary={"id": "c1", "type": "contact"},
        related=[{"id": "c1", "type": "contact"}, {"id": "job1", "type": "job"}],
    )
    assert parse_activity(contact_change) is None


def test_status_ids_of_a_change_are_kept_when_the_payload_has_them() -> None:
    with_ids = parse_activity(
        _status_change("Status: Completed => Invoice Sent", status_id=667, previous_status_id=501)
    )
    without = parse_activity(_status_change("Status: Completed => Invoice Sent"))
    assert with_ids is not None and without is not None
    assert (with_ids["previous_status_id"], with_ids["status_id"]) == (501, 667)
    assert (without["previous_status_id"], without["status_id"]) == (None, None)


def test_a_logged_first_status_has_no_previous_status() -> None:
    row = parse_activity(_status_change("Status: (none) => Lead"))
    assert row is not None
    assert (row["previous_status_name"], row["status_name"]) == (None, "Lead")


INVOICE = {
    "jnid": "inv1", "type": "invoice", "number": "1043", "status": 3,
    "status_name": "Partially Paid", "date_created": 1760000000, "date_updated": 1760500000,
    "date_invoice": 1760000000, "date_due": 1761296000, "date_paid_in_full": 0,
    "total": 12500.0, "total_paid": 5000.0, "due": 7500.0, "sales_rep": "u9",
    "sales_rep_name": "Pat Rep", "is_active": True, "is_archived": False,
    "primary": {"id": "c7", "type": "contact"},
    "related": [{"id": "c7", "type": "contact"}, {"id": "j3", "type": "job"}],
}  # fmt: skip


def test_an_invoice_keeps_the_apis_due_and_takes_its_job_and_contact_from_related() -> None:
    row = parse_invoice(INVOICE)
    assert (row["job_id"], row["contact_id"]) == ("j3", "c7")
    assert (row["total"], row["total_paid"], row["due"]) == (
        Decimal("12500.00"), Decimal("5000.00"), Decimal("7500.00"),
    )  # fmt: skip
    assert row["date_paid_in_full"] is None  # 0: not paid in full
    assert row["date_due"] == datetime(2025, 10, 24, 8, 53, 20, tzinfo=UTC)
    assert (row["status_name"], row["sales_rep_id"]) == ("Partially Paid", "u9")


def test_an_invoice_without_due_owes_its_total_less_what_was_paid_and_may_have_no_job() -> None:
    row = parse_invoice({**INVOICE, "due": None, "related": [{"id": "c7", "type": "contact"}]})
    assert row["due"] == Decimal("7500.00") and row["job_id"] is None
    credit_memo = parse_invoice({**INVOICE, "total": -200, "total_paid": 0, "due": -200})
    assert credit_memo["due"] == Decimal("-200.00")  # kept: it lowers what is owed


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"total": True}, "total is a boolean"), ({"due": "lots"}, "due is not a number"),
     ({"date_due": 1760000000000}, "milliseconds"), ({"jnid": None}, "missing jnid")],
)  # fmt: skip
def test_an_invoice_that_cannot_be_read_is_refused_with_a_reason(change: dict, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse_invoice({**INVOICE, **change})


def test_an_estimate_dates_from_date_estimate_else_its_creation() -> None:
    payload = {**INVOICE, "jnid": "est1", "type": "estimate", "status_name": "Approved",
               "date_estimate": 1760100000, "date_status_change": 1760900000}  # fmt: skip
    row = parse_estimate(payload)
    assert row["date_estimate"] == datetime.fromtimestamp(1760100000, UTC)
    assert row["date_status_change"] == datetime.fromtimestamp(1760900000, UTC)
    assert (row["status_name"], row["job_id"], row["total"]) == (
        "Approved",
        "j3",
        Decimal("12500.00"),
    )
    assert parse_estimate({**payload, "date_estimate": 0})["date_estimate"] == row["date_created"]


TASK = {
    "jnid": "t1", "type": "task", "title": "Inspection: roof", "record_type_name": "Inspection",
    "date_created": 1760000000, "date_updated": 1760000000, "date_start": 1760090000,
    "date_end": 0, "is_completed": False, "priority": 2, "owners": [{"id": "u4"}, {"id": "u5"}],
    "primary": {"id": "j3", "type": "job"}, "related": [{"id": "c7", "type": "contact"}],
    "is_active": True, "is_archived": False,
}  # fmt: skip


def test_a_task_is_assigned_to_its_first_owner_and_an_unset_end_is_null() -> None:
    row = parse_task(TASK)
    assert (row["assignee_id"], row["job_id"], row["contact_id"]) == ("u4", "j3", "c7")
    assert row["date_end"] is None and row["date_start"] is not None
    assert (row["task_type"], row["priority"], row["is_completed"]) == ("Inspection", 2, False)


def test_a_task_without_owners_or_completion_flag_is_unassigned_and_open() -> None:
    row = parse_task({**TASK, "owners": [], "is_completed": None})
    assert row["assignee_id"] is None and row["is_completed"] is False
    with pytest.raises(RecordError, match="priority is not an integer"):
        parse_task({**TASK, "priority": 1.5})
