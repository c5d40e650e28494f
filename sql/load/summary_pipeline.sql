SELECT stage, min(stage_order), sum(job_count), sum(estimate_value)
FROM analytics.pipeline_by_stage
GROUP BY stage ORDER BY min(stage_order) NULLS LAST, stage
