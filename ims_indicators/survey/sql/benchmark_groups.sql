-- The survey indicators in marts.benchmark_groups: CHE's confidence-interval rule within each peer set, in place
-- of the rank rule (students' judgements are grouped by a clear statistical difference, not by quartiles).
-- Per peer set × year × item the peer mean is the mean of the member school means with n >= $min_n; a school's
-- interval comes from marts.survey_items. Fewer than $min_schools such schools in the set: no group.
UPDATE marts.benchmark_groups AS b
SET
    che_group = g.che_group,
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
            count(*) FILTER (WHERE n >= $min_n AND mean IS NOT NULL) AS schools,
            avg(mean) FILTER (WHERE n >= $min_n AND mean IS NOT NULL) AS peer_mean
        FROM members
        GROUP BY peer_set, academic_year, indicator_id
    ),
    final AS (
        SELECT
            m.peer_set,
            m.academic_year,
            m.indicator_id,
            m.school_id,
            CASE
                WHEN m.ci_low IS NULL OR p.schools < $min_schools THEN NULL
                WHEN m.ci_high < p.peer_mean THEN 'top'
                WHEN m.ci_low > p.peer_mean THEN 'bottom'
                ELSE 'middle'
            END AS che_group,
            CASE
                WHEN m.ci_low IS NULL THEN 'CHE interval rule: ' || m.reason
                WHEN p.schools < $min_schools
                    THEN printf('CHE interval rule: %d school(s) of the peer set with %d or more responses, '
                                'fewer than %d: no group', p.schools, $min_n, $min_schools)
                ELSE printf('CHE interval rule: 95 %% interval %.2f–%.2f against the peer-set mean %.2f',
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
