-- analytics.open_invoices_by_day: the open balances (due > 0) of analytics.invoice_balances per
-- invoice day (account time zone): a few rows a day, so pending payments by age are summed
-- from about a thousand rows for any today, never from every invoice.
DROP MATERIALIZED VIEW IF EXISTS analytics.open_invoices_by_day CASCADE;
CREATE MATERIALIZED VIEW analytics.open_invoices_by_day AS
SELECT invoice_day, count(*)::integer AS invoices, sum(due)::numeric(14,2) AS due
FROM analytics.invoice_balances
WHERE due > 0
GROUP BY invoice_day
WITH DATA;
CREATE UNIQUE INDEX open_invoices_by_day_key ON analytics.open_invoices_by_day (invoice_day);
COMMENT ON MATERIALIZED VIEW analytics.open_invoices_by_day IS
    'Open invoice balances (due > 0, invoices that count) per invoice day: pending payments by age.';
COMMENT ON COLUMN analytics.open_invoices_by_day.invoice_day IS 'date_invoice (else date_created) in the account time zone.';
COMMENT ON COLUMN analytics.open_invoices_by_day.invoices IS 'Open invoices dated that day.';
COMMENT ON COLUMN analytics.open_invoices_by_day.due IS 'What they still owe.';
