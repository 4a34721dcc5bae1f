-- cross check school_registered: every row's school is in the registry (curated.schools).
-- {table}: the staged dataset (an identifier from our own constants); $ids: the submissions checked.
WITH checked AS (
    SELECT submission_id, source_row, school_id
    FROM {table}
    WHERE submission_id IN (SELECT unnest($ids))
),

final AS (
    SELECT
        c.submission_id,
        c.source_row,
        'school_id' AS column_name,
        format('school_id ''{}'' is not in the schools registry; expected a school listed in schools.csv',
               c.school_id) AS reason
    FROM checked AS c
    WHERE NOT EXISTS (SELECT 1 FROM curated.schools AS s WHERE s.school_id = c.school_id)
)

SELECT * FROM final ORDER BY submission_id, source_row
