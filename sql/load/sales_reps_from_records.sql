-- Every rep seen on a record has a row, even when account/users does not list them.
INSERT INTO sales_reps (id, name, source)
SELECT DISTINCT ON (sales_rep_id) sales_rep_id, sales_rep_name, 'records'
FROM (
    SELECT sales_rep_id, sales_rep_name, date_updated AS seen FROM jobs WHERE sales_rep_id IS NOT NULL
    UNION ALL
    SELECT sales_rep_id, sales_rep_name, updated_at FROM contacts WHERE sales_rep_id IS NOT NULL
    UNION ALL
    SELECT sales_rep_id, NULL, date_updated FROM payments WHERE sales_rep_id IS NOT NULL
) seen
ORDER BY sales_rep_id, (sales_rep_name IS NULL), seen DESC NULLS LAST
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, loaded_at = now()
WHERE sales_reps.source = 'records' AND sales_reps.name IS DISTINCT FROM EXCLUDED.name
