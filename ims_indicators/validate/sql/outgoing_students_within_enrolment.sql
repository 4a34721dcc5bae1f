-- cross check outgoing_students_within_enrolment: a school's outgoing student mobilities in a year
-- (sum of participants) are not more than its enrolled students (students_total over all levels).
-- Enrolment: a staged submission for that school-year still waiting for validation (the newest), else curated.
-- When the sum is too high, the fewest rows that bring it back within (the largest groups) are held back.
-- {table}: the staged mobility rows; $ids: the submissions checked; _gx_failed: rows the suite already holds back.
WITH pending_enrolment AS (
    SELECT
        submission_id,
        school_id,
        academic_year,
        row_number() OVER (PARTITION BY school_id, academic_year ORDER BY received_at DESC, submission_id DESC) AS rn
    FROM meta.submissions
    WHERE dataset = 'enrolment' AND status = 'staged'
),

enrolled AS (
    SELECT e.school_id, e.academic_year, sum(e.students_total)::BIGINT AS students
    FROM staging.enrolment AS e
    INNER JOIN pending_enrolment AS p ON p.submission_id = e.submission_id AND p.rn = 1
    GROUP BY ALL
    UNION ALL
    SELECT c.school_id, c.academic_year, sum(c.students_total)::BIGINT AS students
    FROM curated.enrolment AS c
    WHERE NOT EXISTS (SELECT 1 FROM pending_enrolment AS p
                      WHERE p.school_id = c.school_id AND p.academic_year = c.academic_year)
    GROUP BY ALL
),

outgoing AS (
    SELECT m.submission_id, m.source_row, m.school_id, m.academic_year, m.participants
    FROM {table} AS m
    WHERE m.submission_id IN (SELECT unnest($ids))
        AND m.direction = 'outgoing' AND m.participant_type = 'student' AND m.participants >= 1
        AND NOT EXISTS (SELECT 1 FROM _gx_failed AS f
                        WHERE f.submission_id = m.submission_id AND f.source_row = m.source_row)
),

ranked AS (
    SELECT
        o.*,
        e.students,
        sum(o.participants) OVER (PARTITION BY o.submission_id)::BIGINT AS total,
        coalesce(sum(o.participants) OVER (PARTITION BY o.submission_id ORDER BY o.participants DESC, o.source_row DESC
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::BIGINT AS larger
    FROM outgoing AS o
    INNER JOIN enrolled AS e ON e.school_id = o.school_id AND e.academic_year = o.academic_year
),

final AS (
    SELECT
        submission_id,
        source_row,
        'participants' AS column_name,
        format('outgoing student mobilities of {} in {} add up to {} participants, more than its {} enrolled '
               || 'students; this row''s {} participant(s) are among the largest that exceed the total',
               school_id, academic_year, total, students, participants) AS reason
    FROM ranked
    WHERE total - larger > students
)

SELECT * FROM final ORDER BY submission_id, source_row
