-- Key uniqueness and not-null key columns of one table. {table} and {key} are identifiers
-- composed with psycopg2.sql from constants of gcc_pipeline/checks.py, never from input.
WITH dup AS (
    SELECT concat_ws(' / ', {key}) AS k, count(*) AS n
    FROM {table}
    WHERE num_nulls({key}) = 0
    GROUP BY {key}
    HAVING count(*) > 1
)
SELECT (SELECT count(*) FROM {table}) AS total_rows,
       (SELECT count(*) FROM dup) AS duplicated_keys,
       (SELECT coalesce(sum(n), 0) FROM dup) AS rows_with_duplicated_keys,
       (SELECT count(*) FROM {table} WHERE num_nulls({key}) > 0) AS rows_with_null_key,
       (SELECT coalesce(array_agg(k ORDER BY n DESC, k), '{{}}')
        FROM (SELECT k, n FROM dup ORDER BY n DESC, k LIMIT %(examples)s) e) AS examples
