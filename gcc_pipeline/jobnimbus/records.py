"""Turn JobNimbus payloads into warehouse rows, or say exactly why one cannot be.

Parsing is strict on purpose: a value that is not what the API documents raises `RecordError`
with a reason, and the record goes to quarantine instead of being guessed into a table.
"""

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

MAX_ID_LENGTH = 200
_EPOCH_MIN = 946_684_800  # 2000-01-01: JobNimbus did not exist before
_EPOCH_MAX = 4_102_444_800  # 2100-01-01: beyond it a value is milliseconds or garbage
_MONEY_LIMIT = Decimal("999999999999.99")  # numeric(14,2)
PAYMENT_METHODS = {1: "Check", 3: "Credit Card"}
# The owners' test records: "Jane Tester" anywhere in a name, any case and spacing.
TEST_NAME = re.compile(r"jane\s*tester", re.IGNORECASE)


class RecordError(ValueError):
    """A record that cannot be normalized; the message is the quarantine reason."""


def record_id(payload: Mapping[str, Any]) -> str:
    jnid = payload.get("jnid")
    if not isinstance(jnid, str) or not jnid.strip():
        raise RecordError("missing jnid")
    if len(jnid) > MAX_ID_LENGTH:
        raise RecordError(f"jnid longer than {MAX_ID_LENGTH} characters ({len(jnid)})")
    return jnid


def _number(value: Any, field: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"{field} is a boolean, not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise RecordError(f"{field} is not a number: {value[:40]!r}") from None
    else:
        raise RecordError(f"{field} is a {type(value).__name__}, not a number")
    if not math.isfinite(number):
        raise RecordError(f"{field} is not a finite number: {value!r}")
    return number


def epoch(value: Any, field: str) -> datetime | None:
    """Unix seconds to an aware datetime; 0 and absent mean 'not set'."""
    number = _number(value, field)
    if number is None or number == 0:
        return None
    if number < 0:
        raise RecordError(f"{field} is a negative epoch ({value})")
    if number > _EPOCH_MAX:
        raise RecordError(f"{field} is beyond 2100, probably milliseconds ({value})")
    if number < _EPOCH_MIN:
        raise RecordError(f"{field} is before 2000 ({value})")
    return datetime.fromtimestamp(number, tz=UTC)


def money(value: Any, field: str) -> Decimal | None:
    number = _number(value, field)
    if number is None:
        return None
    amount = Decimal(repr(number)).quantize(Decimal("0.01"))
    if abs(amount) > _MONEY_LIMIT:
        raise RecordError(f"{field} is out of range ({value})")
    return amount


def integer(value: Any, field: str) -> int | None:
    number = _number(value, field)
    if number is None:
        return None
    if number != int(number) or abs(number) > 2**31 - 1:
        raise RecordError(f"{field} is not an integer ({value})")
    return int(number)


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def flag(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise RecordError(f"{field} is not a boolean ({str(value)[:40]!r})")


def _obj(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecordError(f"{field} is a {type(value).__name__}, not an object")
    return value


def _links(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """primary first, then related; nulls inside the list are tolerated, other shapes are not."""
    related = payload.get("related")
    if related is None:
        related = []
    if not isinstance(related, list):
        raise RecordError("related is not a list")
    links = [_obj(payload.get("primary"), "primary")]
    links += [item for item in related if isinstance(item, Mapping)]
    return [link for link in links if link]


def linked_id(
    payload: Mapping[str, Any], entity_type: str, *, prefer_related: bool = False
) -> str | None:
    """The id of the first linked record of a type; payments trust `related` over `primary`."""
    links = _links(payload)
    if prefer_related:
        links = links[1:] + links[:1]
    for link in links:
        if link.get("type") == entity_type and isinstance(link.get("id"), str):
            return link["id"]
    return None


def _id_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{field} is not a list")
    out = []
    for item in value:
        if isinstance(item, Mapping) and item.get("id") is not None:
            out.append(str(item["id"]))
        elif isinstance(item, str):
            out.append(item)
    return out


def _is_test(*names: Any) -> bool:
    return any(isinstance(n, str) and TEST_NAME.search(n) for n in names)


def _common(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": record_id(payload),
        "date_created": epoch(payload.get("date_created"), "date_created"),
        "date_updated": epoch(payload.get("date_updated"), "date_updated"),
        "is_active": flag(payload.get("is_active"), "is_active"),
        "is_archived": flag(payload.get("is_archived"), "is_archived"),
    }


def parse_contact(payload: Mapping[str, Any]) -> dict[str, Any]:
    common = _common(payload)
    first, last = text(payload.get("first_name")), text(payload.get("last_name"))
    display = text(payload.get("display_name")) or " ".join(p for p in (first, last) if p) or None
    return {
        "id": common["id"],
        "number": text(payload.get("number")),
        "display_name": display,
        "first_name": first,
        "last_name": last,
        "company": text(payload.get("company")),
        "email": text(payload.get("email")),
        "phone": text(payload.get("mobile_phone"))
        or text(payload.get("home_phone"))
        or text(payload.get("work_phone")),
        "contact_type": text(payload.get("record_type_name")),
        "lead_source": text(payload.get("source_name")),
        "status_name": text(payload.get("status_name")),
        "sales_rep_id": text(payload.get("sales_rep")),
        "sales_rep_name": text(payload.get("sales_rep_name")),
        "city": text(payload.get("city")),
        "state": text(payload.get("state_text")),
        "zip": text(payload.get("zip")),
        "is_sub_contractor": flag(payload.get("is_sub_contractor"), "is_sub_contractor"),
        "created_at": common["date_created"],
        "updated_at": common["date_updated"],
        "is_active": common["is_active"],
        "is_archived": common["is_archived"],
        "is_test": _is_test(display, f"{first or ''} {last or ''}"),
    }


def parse_job(payload: Mapping[str, Any]) -> dict[str, Any]:
    common = _common(payload)
    record_type_name = text(payload.get("record_type_name"))
    primary = _obj(payload.get("primary"), "primary")
    return {
        **common,
        "number": text(payload.get("number")),
        "name": text(payload.get("name")),
        "record_type_id": integer(payload.get("record_type"), "record_type"),
        "record_type_name": record_type_name,
        "status_id": integer(payload.get("status"), "status"),
        "status_name": text(payload.get("status_name")),
        "sales_rep_id": text(payload.get("sales_rep")),
        "sales_rep_name": text(payload.get("sales_rep_name")),
        "source_name": text(payload.get("source_name")),
        "primary_contact_id": linked_id(payload, "contact"),
        "approved_estimate_total": money(
            payload.get("approved_estimate_total"), "approved_estimate_total"
        ),
        "approved_invoice_total": money(
            payload.get("approved_invoice_total"), "approved_invoice_total"
        ),
        "address_line1": text(payload.get("address_line1")),
        "city": text(payload.get("city")),
        "state": text(payload.get("state_text")),
        "zip": text(payload.get("zip")),
        "date_status_change": epoch(payload.get("date_status_change"), "date_status_change"),
        "is_lead": flag(payload.get("is_lead"), "is_lead"),
        "is_test": _is_test(payload.get("name"), primary.get("name")),
        "is_legacy": "legacy" in (record_type_name or "").lower(),
        "owners": _id_list(payload.get("owners"), "owners"),
        "tags": [str(t) for t in payload.get("tags") or [] if isinstance(t, str | int)],
    }


def parse_payment(payload: Mapping[str, Any]) -> dict[str, Any]:
    common = _common(payload)
    total = money(payload.get("total"), "total")
    credit = money(payload.get("credit"), "credit") or Decimal("0.00")
    refunded = money(payload.get("refunded_amount"), "refunded_amount") or Decimal("0.00")
    net = None if total is None else total - credit
    invoices = payload.get("invoices") or []
    if not isinstance(invoices, list):
        raise RecordError("invoices is not a list")
    applied = sum(
        (money(i.get("amount"), "invoices.amount") or Decimal("0.00"))
        for i in invoices
        if isinstance(i, Mapping)
    )
    # The invoice paid: invoices[].invoice_id, else the invoice the payment links to. (An
    # invoices[] entry's own jnid is the payment's line on it, "<payment jnid>_1".)
    lines = [i for i in invoices if isinstance(i, Mapping)]
    invoice_id = text(lines[0].get("invoice_id")) if lines else None
    method = integer(payload.get("method_id"), "method_id")
    return {
        **common,
        "number": text(payload.get("number")),
        "job_id": linked_id(payload, "job", prefer_related=True),
        "contact_id": linked_id(payload, "contact", prefer_related=True),
        "invoice_id": invoice_id or linked_id(payload, "invoice", prefer_related=True),
        "amount": total,
        "credit": credit,
        "net_amount": net,
        "refunded_amount": refunded,
        "refund_id": text(payload.get("refund_id")),
        "total_paid": None if net is None else net - refunded,
        "balance": None if net is None else net - applied,
        "date_payment": epoch(payload.get("date_payment"), "date_payment"),
        "payment_method": PAYMENT_METHODS.get(method, f"method {method}") if method else None,
        "processor": text(payload.get("created_by_processor")),
        "status": text(payload.get("status_name")),
        "reference": text(payload.get("reference")),
        "sales_rep_id": text(payload.get("sales_rep")),
    }


def _line_cost(payload: Mapping[str, Any]) -> Decimal | None:
    total = money(payload.get("total_line_item_cost"), "total_line_item_cost")
    if total is not None:
        return total
    items = payload.get("items") or []
    if not isinstance(items, list):
        raise RecordError("items is not a list")
    costs = [
        (money(i.get("cost"), "items.cost") or 0)
        * Decimal(str(_number(i.get("quantity"), "items.quantity") or 1))
        for i in items
        if isinstance(i, Mapping)
    ]
    return sum(costs, Decimal("0.00")).quantize(Decimal("0.01")) if costs else None


def _expense(payload: Mapping[str, Any], source: str) -> dict[str, Any]:
    common = _common(payload)
    amount = _line_cost(payload)
    if amount is not None and amount < 0:
        raise RecordError(f"negative cost ({amount})")
    return {
        **common,
        "job_id": linked_id(payload, "job"),
        "contact_id": linked_id(payload, "contact"),
        "amount": amount,
        "price": money(payload.get("total_line_item_price"), "total_line_item_price"),
        "status_name": text(payload.get("status_name")),
        "source_entity": source,
    }


def parse_workorder(payload: Mapping[str, Any]) -> dict[str, Any]:
    row = _expense(payload, "workorder")
    subs = payload.get("subcontractors") or []
    if not isinstance(subs, list):
        raise RecordError("subcontractors is not a list")
    names = [
        text(s.get("name")) or text(s.get("display_name")) for s in subs if isinstance(s, Mapping)
    ]
    row["expense_type"] = "subcontractor" if subs else "labor"
    row["vendor"] = ", ".join(n for n in names if n) or None
    row["date_expense"] = (
        epoch(payload.get("date_end"), "date_end")
        or epoch(payload.get("date_start"), "date_start")
        or row["date_created"]
    )
    return row


def parse_materialorder(payload: Mapping[str, Any]) -> dict[str, Any]:
    row = _expense(payload, "materialorder")
    supplier = _obj(payload.get("supplier"), "supplier")
    row["expense_type"] = "materials"
    row["vendor"] = text(supplier.get("name")) or text(supplier.get("branch"))
    row["date_expense"] = (
        epoch(payload.get("date_materialorder"), "date_materialorder") or row["date_created"]
    )
    return row


_STATUS_NOTES = (
    re.compile(r"^\s*Status:\s*(.*\S)\s*=>\s*(.*\S)\s*$"),
    re.compile(r"^\s*Status changed from\s+(.*\S)\s+to\s+(.*\S)\s*$"),
)
_NO_STATUS = re.compile(r"\(\s*none\s*\)", re.IGNORECASE)  # "(none) => Lead": the first status


def parse_activity(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """A job's status change (job, previous and new status name and id, when), or None for
    other activities, including status changes of a contact (primary is the contact; its job
    may still be listed in related).

    The change is the note's first line, "Status: A => B" or "Status changed from A to B" (the
    lines below are free text); a job status-change activity whose note matches neither is an
    error worth a quarantine row, not a silent skip. Status ids are kept when the payload has
    them (`status_id`, `previous_status_id`): a rename keeps the id, so they resolve old names.
    A previous status of "(none)" is the job's first status being logged: no previous status."""
    activity_id = record_id(payload)
    changed_at = epoch(payload.get("date_created"), "date_created")
    date_updated = epoch(payload.get("date_updated"), "date_updated")
    if payload.get("is_status_change") is not True:
        return None
    if _obj(payload.get("primary"), "primary").get("type") != "job":
        return None
    note = payload.get("note")
    match = None
    if isinstance(note, str):
        first_line = note.strip().splitlines()[0] if note.strip() else ""
        match = next((m for p in _STATUS_NOTES if (m := p.match(first_line))), None)
    if match is None:
        raise RecordError(f"status-change note not understood: {str(note)[:60]!r}")
    if changed_at is None:
        raise RecordError("status change without date_created")
    previous = None if _NO_STATUS.fullmatch(match.group(1)) else match.group(1)
    return {
        "id": activity_id,
        "job_id": linked_id(payload, "job"),
        "previous_status_name": previous,
        "status_name": match.group(2),
        "previous_status_id": integer(payload.get("previous_status_id"), "previous_status_id"),
        "status_id": integer(payload.get("status_id"), "status_id"),
        "changed_at": changed_at,
        "date_updated": date_updated,
    }


def _document(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What invoices and estimates share: links, status, total, rep. A negative total is kept
    (a credit memo lowers what is owed); a total that is not money is refused."""
    common = _common(payload)
    total = money(payload.get("total"), "total")
    return {
        **common,
        "number": text(payload.get("number")),
        "job_id": linked_id(payload, "job", prefer_related=True),
        "contact_id": linked_id(payload, "contact", prefer_related=True),
        "status_id": integer(payload.get("status"), "status"),
        "status_name": text(payload.get("status_name")),
        "date_status_change": epoch(payload.get("date_status_change"), "date_status_change"),
        "total": total,
        "sales_rep_id": text(payload.get("sales_rep")),
        "sales_rep_name": text(payload.get("sales_rep_name")),
    }


def parse_invoice(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An invoice as the API states it: `due` (still owed) is kept, not recomputed, and the
    reconciliation check compares it with the job roll-up instead."""
    row = _document(payload)
    total_paid = money(payload.get("total_paid"), "total_paid")
    due = money(payload.get("due"), "due")
    if due is None and row["total"] is not None:
        due = row["total"] - (total_paid or Decimal("0.00"))
    return {
        **row,
        "date_invoice": epoch(payload.get("date_invoice"), "date_invoice"),
        "date_due": epoch(payload.get("date_due"), "date_due"),
        "date_paid_in_full": epoch(payload.get("date_paid_in_full"), "date_paid_in_full"),
        "total_paid": total_paid,
        "due": due,
    }


def parse_estimate(payload: Mapping[str, Any]) -> dict[str, Any]:
    row = _document(payload)
    return {
        **row,
        "date_estimate": epoch(payload.get("date_estimate"), "date_estimate")
        or row["date_created"],
    }


def parse_task(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A task; the assignee is its first owner (tasks carry no sales rep of their own)."""
    common = _common(payload)
    owners = _id_list(payload.get("owners"), "owners")
    return {
        **common,
        "number": text(payload.get("number")),
        "title": text(payload.get("title")),
        "task_type": text(payload.get("record_type_name")),
        "job_id": linked_id(payload, "job"),
        "contact_id": linked_id(payload, "contact"),
        "assignee_id": owners[0] if owners else None,
        "date_start": epoch(payload.get("date_start"), "date_start"),
        "date_end": epoch(payload.get("date_end"), "date_end"),
        "is_completed": bool(flag(payload.get("is_completed"), "is_completed")),
        "priority": integer(payload.get("priority"), "priority"),
    }
