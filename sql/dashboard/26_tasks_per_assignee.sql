-- Operations: open and overdue tasks per assignee (overdue = open and due, by its end else its start, before today; a task with neither is open, never overdue), most overdue first.
SELECT assignee_id, assignee_name, sum(tasks) AS open_tasks,
       coalesce(sum(tasks) FILTER (WHERE due_day < %(today)s::date), 0) AS overdue_tasks,
       coalesce(sum(tasks) FILTER (WHERE due_day IS NULL), 0) AS undated_tasks,
       sum(high_priority) AS high_priority
FROM analytics.open_tasks
GROUP BY assignee_id, assignee_name
ORDER BY overdue_tasks DESC, open_tasks DESC, assignee_id
