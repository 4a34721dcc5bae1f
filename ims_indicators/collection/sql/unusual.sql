-- Values that are unusual but possible, row by row (the confirm checks in checks.yaml compare each with the
-- rule's max_value). One row per measure x curated row; named columns: measure, school_id, academic_year,
-- submission_id, source_row, value. Lengths in months of 30.44 days (365.25 / 12); a semester is 6 months.
SELECT 'mobility_months' AS measure, school_id, academic_year, submission_id, source_row,
       round(date_diff('day', start_date, end_date) / 30.44, 1) AS value
FROM curated.mobility
WHERE start_date IS NOT NULL AND end_date IS NOT NULL
UNION ALL
SELECT 'ects_per_semester' AS measure, school_id, academic_year, submission_id, source_row,
       round(ects_earned / greatest(1, ceil(date_diff('day', start_date, end_date) / 182.625)), 1) AS value
FROM curated.mobility
WHERE ects_earned IS NOT NULL AND start_date IS NOT NULL AND end_date IS NOT NULL
