-- The survey indicators in marts.benchmark_groups: CHE's confidence-interval rule within each peer set, in place
-- of the rank rule (students' judgements are grouped by a clear statistical difference, not by quartiles).
-- Per peer set × year × item the peer mean is the unweighted mean of the member school means that are in the
-- reference in marts.survey_items (enough answers, response rate); a school's interval and eligibility for a
-- group (also: an sd and an interval no wider than the limit) come from there too.
-- Fewer than $min_schools eligible schools in the set: no group. The peer mean is the one reference of the item:
-- it replaces the peer median (quartiles are not shown for judgements), so every page compares with the same
-- number. Survey means never get an A–E letter.
UPDATE marts.benchmark_groups AS b
SET
    che_group = g.che_group,
    ume_group = NULL,
    peer_median = g.peer_mean,
    peer_q1 = NULL,
    peer_q3 = NULL,
    median_distance = NULL,
    reason = concat_ws('; ', g.note,  -- the rank rule's minimum does not apply to the interval rule
                       nullif(regexp_replace(b.reason, 'peer set has \d+ computable values, fewer than \d+: no group(; )?',
                                             ''), ''))
FROM (
    WITH items AS (
        SELECT s.*, 'survey_' || s.item AS indicator_id
        FROM marts.survey_items AS s
    ),
    members AS (
        SELECT m.peer_set, i.*
        FROM marts.peer_set_members AS m
        JOIN items AS i USING (school_id, academic_year)
    ),
    peer AS (
        SELECT
            peer_set, academic_year, indicator_id,
            count(*) FILTER (WHERE in_reference) AS schools,
            avg(mean) FILTER (WHERE in_reference) AS peer_mean
        FROM members
        GROUP BY peer_set, academic_year, indicator_id
    ),
    final AS (
        SELECT
            m.peer_set,
            m.academic_year,
            m.indicator_id,
            m.school_id,
            CASE WHEN p.schools >= $min_schools THEN p.peer_mean END AS peer_mean,
            CASE
                WHEN NOT m.eligible OR p.schools < $min_schools THEN NULL
                WHEN m.ci_high < p.peer_mean THEN 'top'
                WHEN m.ci_low > p.peer_mean THEN 'bottom'
                ELSE 'middle'
            END AS che_group,
            CASE
                WHEN NOT m.eligible THEN 'CHE interval rule: ' || m.reason
                WHEN p.schools < $min_schools
                    THEN printf('CHE interval rule: %d school(s) of the peer set in the reference, fewer than %d: '
                                'no group',
                                p.schools, $min_schools)
                ELSE printf('CHE interval rule: 95 %% interval %.2f–%.2f against the peer mean of school means %.2f',
                            m.ci_low, m.ci_high, p.peer_mean)
            END AS note
        FROM members AS m
        JOIN peer AS p USING (peer_set, academic_year, indicator_id)
    )
    SELECT * FROM final
) AS g
WHERE b.peer_set = g.peer_set
  AND b.academic_year = g.academic_year
  AND b.indicator_id = g.indicator_id
  AND b.school_id = g.school_id
