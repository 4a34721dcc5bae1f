-- Peer-group membership per school × year, from the peer-set definitions in temp.bm_* tables.
INSERT INTO marts.peer_set_members
WITH frame AS (
    SELECT DISTINCT v.school_id, v.academic_year, s.country_code
    FROM marts.indicator_values AS v
    JOIN curated.schools AS s USING (school_id)
),
sizes AS (
    SELECT e.school_id, e.academic_year, CAST(sum(e.students_total) AS BIGINT) AS students
    FROM curated.enrolment AS e
    JOIN meta.submissions AS s USING (submission_id)
    WHERE s.source = 'school'
    GROUP BY e.school_id, e.academic_year
),
network AS (
    SELECT p.set_id AS peer_set, p.set_id, p.kind, f.school_id, f.academic_year
    FROM temp.bm_peer_sets AS p CROSS JOIN frame AS f
    WHERE p.kind = 'network'
),
country AS (
    SELECT p.set_id || ':' || f.country_code AS peer_set, p.set_id, p.kind, f.school_id, f.academic_year
    FROM temp.bm_peer_sets AS p CROSS JOIN frame AS f
    WHERE p.kind = 'country' AND f.country_code IS NOT NULL
),
region AS (
    SELECT p.set_id || ':' || r.region AS peer_set, p.set_id, p.kind, f.school_id, f.academic_year
    FROM temp.bm_peer_sets AS p CROSS JOIN frame AS f
    JOIN temp.bm_regions AS r ON r.country_code = f.country_code
    WHERE p.kind = 'region'
),
size_class AS (
    SELECT p.set_id || ':' || c.class_id AS peer_set, p.set_id, p.kind, f.school_id, f.academic_year
    FROM temp.bm_peer_sets AS p CROSS JOIN frame AS f
    JOIN sizes AS z ON z.school_id = f.school_id AND z.academic_year = f.academic_year
    JOIN temp.bm_size_classes AS c
        ON z.students >= coalesce(c.min_students, 0) AND (c.max_students IS NULL OR z.students < c.max_students)
    WHERE p.kind = 'size_class'
),
listed AS (
    SELECT p.set_id AS peer_set, p.set_id, p.kind, f.school_id, f.academic_year
    FROM temp.bm_peer_sets AS p CROSS JOIN frame AS f
    JOIN temp.bm_lists AS l ON l.set_id = p.set_id AND l.school_id = f.school_id
    WHERE p.kind = 'list'
),
final AS (
    SELECT * FROM network
    UNION ALL SELECT * FROM country
    UNION ALL SELECT * FROM region
    UNION ALL SELECT * FROM size_class
    UNION ALL SELECT * FROM listed
)
SELECT DISTINCT * FROM final
