-- Measures compared with the school's previous year by the credibility (explain) checks in checks.yaml.
-- One row per measure x school x academic year; named columns: measure, school_id, academic_year, value.
SELECT 'outgoing_mobility' AS measure, school_id, academic_year, sum(participants)::BIGINT AS value
FROM curated.mobility
WHERE direction = 'outgoing'
GROUP BY ALL
UNION ALL
SELECT 'academic_headcount' AS measure, school_id, academic_year, sum(headcount)::BIGINT AS value
FROM curated.staffing
GROUP BY ALL
