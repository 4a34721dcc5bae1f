-- The steward console's quarantine: held-back rows of the latest submissions, with school, dataset and year.
SELECT s.school_id, s.dataset, s.academic_year, q.submission_id, q.source_row, q.column_name, q.rule, q.reason
FROM meta.quarantine q
JOIN meta.submissions s USING (submission_id)
WHERE s.superseded_by IS NULL
  AND ($dataset IS NULL OR s.dataset = $dataset)
  AND ($year IS NULL OR s.academic_year = $year)
  AND ($rule IS NULL OR q.rule = $rule)
ORDER BY s.school_id, s.dataset, s.academic_year, q.source_row
