-- Operations: open and overdue tasks per assignee (overdue = open and due, by its end else its start, before today; a task with neither is open, never overdue), most overdue first.
SELECT a.assignee_id, a.assignee_name, a.assignee_open_tasks AS open_tasks,
       coalesce((SELECT o.dated_tasks_through_day
                 FROM analytics.open_tasks o
                 WHERE o.assignee_id = a.assignee_id AND o.due_day < %(today)s::date
                 ORDER BY o.due_day DESC
                 LIMIT 1), 0) AS overdue_tasks,
       a.assignee_undated_tasks AS undated_tasks, a.assignee_high_priority AS high_priority
FROM analytics.open_tasks a
WHERE a.is_first_row
ORDER BY overdue_tasks DESC, open_tasks DESC, a.assignee_id
