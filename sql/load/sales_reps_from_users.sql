INSERT INTO sales_reps (id, name, first_name, last_name, email, phone, is_active, source)
VALUES %s
ON CONFLICT (id) DO UPDATE
SET name = EXCLUDED.name, first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
    email = EXCLUDED.email, phone = EXCLUDED.phone, is_active = EXCLUDED.is_active,
    source = EXCLUDED.source, loaded_at = now()
WHERE (sales_reps.name, sales_reps.first_name, sales_reps.last_name, sales_reps.email,
       sales_reps.phone, sales_reps.is_active, sales_reps.source)
      IS DISTINCT FROM
      (EXCLUDED.name, EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.email, EXCLUDED.phone,
       EXCLUDED.is_active, EXCLUDED.source)
