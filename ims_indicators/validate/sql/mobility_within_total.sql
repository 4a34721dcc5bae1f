-- cross checks outgoing_students_within_enrolment / staff_mobility_within_headcount: a school's outgoing
-- mobilities of one participant type in a year (sum of participants) are not more than a total of another
-- dataset (students_total of enrolment over all levels, headcount of staffing over all categories).
-- The total: a staged submission for that school-year still waiting for validation (the newest), else curated.
-- When the sum is too high, the fewest rows that bring it back within (the largest groups) are held back.
-- Identifiers (from cross.CHECKS, our own constants): {table} the staged mobility rows, {totals} the dataset
-- holding the total, {total_column} its column. Bound: $ids the submissions checked, $totals_dataset,
-- $participant_type, $limit_text (how the total reads in the reason). _gx_failed: rows the suite already holds back.
WITH pending_totals AS (
    SELECT
        submission_id,
        school_id,
        academic_year,
        row_number() OVER (PARTITION BY school_id, academic_year ORDER BY received_at DESC, submission_id DESC) AS rn
    FROM meta.submissions
    WHERE dataset = $totals_dataset AND status = 'staged'
),

totals AS (
    SELECT s.school_id, s.academic_year, sum(s.{total_column})::BIGINT AS total_limit
    FROM staging.{totals} AS s
    INNER JOIN pending_totals AS p ON p.submission_id = s.submission_id AND p.rn = 1
    GROUP BY ALL
    UNION ALL
    SELECT c.school_id, c.academic_year, sum(c.{total_column})::BIGINT AS total_limit
    FROM curated.{totals} AS c
    WHERE NOT EXISTS (SELECT 1 FROM pending_totals AS p
                      WHERE p.school_id = c.school_id AND p.academic_year = c.academic_year)
    GROUP BY ALL
),

outgoing AS (
    SELECT m.submission_id, m.source_row, m.school_id, m.academic_year, m.participants
    FROM {table} AS m
    WHERE m.submission_id IN (SELECT unnest($ids))
        AND m.direction = 'outgoing' AND m.participant_type = $participant_type AND m.participants >= 1
        AND NOT EXISTS (SELECT 1 FROM _gx_failed AS f
                        WHERE f.submission_id = m.submission_id AND f.source_row = m.source_row)
),

joined AS (
    SELECT o.*, t.total_limit
    FROM outgoing AS o
    INNER JOIN totals AS t ON t.school_id = o.school_id AND t.academic_year = o.academic_year
),

sums AS (
    SELECT submission_id, sum(participants)::BIGINT AS total, min(total_limit) AS least_limit
    FROM joined
    GROUP BY submission_id
),

-- ranking the rows (a sort) only in the submissions whose sum exceeds a total: usually none
ranked AS (
    SELECT
        j.*,
        s.total,
        coalesce(sum(j.participants) OVER (PARTITION BY j.submission_id ORDER BY j.participants DESC, j.source_row DESC
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::BIGINT AS larger
    FROM joined AS j
    INNER JOIN sums AS s ON s.submission_id = j.submission_id
    WHERE s.total > s.least_limit
),

final AS (
    SELECT
        submission_id,
        source_row,
        'participants' AS column_name,
        format('outgoing {} mobilities of {} in {} add up to {} participants, more than its {}; this row''s {} '
               || 'participant(s) are among the largest that exceed the total',
               $participant_type, school_id, academic_year, total, format($limit_text, total_limit),
               participants) AS reason
    FROM ranked
    WHERE total - larger > total_limit
)

SELECT * FROM final ORDER BY submission_id, source_row
