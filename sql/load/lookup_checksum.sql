-- Fingerprint of the lookup: when a rebuild leaves it unchanged, nothing needs restaging.
SELECT coalesce(md5(string_agg(concat_ws('|', record_type_id, status_key, status_id, stage, alias_of), ','
                               ORDER BY record_type_id, status_key)), '')
FROM workflow_status_lookup
