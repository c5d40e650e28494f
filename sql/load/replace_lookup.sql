-- The lookup is rebuilt whole from the mapping file and account/settings (staged in stage_lookup).
-- Rebuilds take turns (a second DELETE would miss the first's uncommitted rows); readers are not blocked.
LOCK TABLE workflow_status_lookup IN SHARE ROW EXCLUSIVE MODE;
DELETE FROM workflow_status_lookup;
INSERT INTO workflow_status_lookup
    (record_type_id, record_type_name, workflow, status_id, status_name, status_key, stage, stage_order,
     alias_of)
SELECT DISTINCT ON (record_type_id, gcc_status_key(status_name))
       record_type_id, record_type_name, workflow, status_id, status_name,
       gcc_status_key(status_name), stage, gcc_stage_order(stage), alias_of
FROM stage_lookup
ORDER BY record_type_id, gcc_status_key(status_name), (alias_of IS NOT NULL), (stage IS NULL),
         (status_id IS NULL);
