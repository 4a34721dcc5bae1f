-- CHE- and U-Multirank-style groups, peer statistics and trends per indicator × year × peer group × school.
--
-- score = value, negated for lower-is-better indicators, so that a higher score is always better.
-- CHE:  rank_best = 1 + peer values strictly better;  n_at_most = peer values at most as good (incl. itself).
--       top    if rank_best <= $che_top * peer_n         (the best 25 %; tied values share the better rank)
--       bottom if n_at_most <= $che_bottom * peer_n      (the worst 25 %; tied values share the better position)
--       middle otherwise. A tie across a boundary therefore always lands in the better group.
-- U-Multirank: median_distance d = (score - oriented median) / |median|; d >= $ume_a A, >= $ume_b B,
--       >= $ume_c C, >= $ume_d D, else E (a value on a cut-off goes to the better group; median 0: no group).
-- No group (and no peer median, quartiles or percentile) when the peer group has fewer than $min_peer
-- computable values; no group for a school whose own value is not computable.
-- Trends: change_1y = value - value of the year before; change_3y = value - value three years before
--       (computable values only; a missing year gives NULL and says which year is missing).
INSERT INTO marts.benchmark_groups
WITH vals AS (
    SELECT
        v.school_id,
        v.academic_year,
        v.indicator_id,
        v.value,
        v.computable,
        v.reason AS value_reason,
        c.direction,
        CASE WHEN c.direction = 'lower' THEN -v.value ELSE v.value END AS score,
        CAST(left(v.academic_year, 4) AS INTEGER) AS y
    FROM marts.indicator_values AS v
    JOIN marts.indicator_catalogue AS c USING (indicator_id)
),
trend AS (
    SELECT
        t.*,
        t.value - p1.value AS change_1y,
        t.value - p3.value AS change_3y,
        printf('%d/%02d', t.y - 1, t.y % 100) AS year_1,
        printf('%d/%02d', t.y - 3, (t.y - 2) % 100) AS year_3
    FROM vals AS t
    LEFT JOIN vals AS p1
        ON p1.school_id = t.school_id AND p1.indicator_id = t.indicator_id AND p1.y = t.y - 1 AND p1.computable
    LEFT JOIN vals AS p3
        ON p3.school_id = t.school_id AND p3.indicator_id = t.indicator_id AND p3.y = t.y - 3 AND p3.computable
),
members AS (
    SELECT m.peer_set, t.*
    FROM marts.peer_set_members AS m
    JOIN trend AS t ON t.school_id = m.school_id AND t.academic_year = m.academic_year
),
stats AS (
    SELECT
        peer_set,
        indicator_id,
        academic_year,
        count(*) FILTER (WHERE computable) AS peer_n,
        median(value) FILTER (WHERE computable) AS peer_median,
        quantile_cont(value, 0.25) FILTER (WHERE computable) AS peer_q1,
        quantile_cont(value, 0.75) FILTER (WHERE computable) AS peer_q3
    FROM members
    GROUP BY peer_set, indicator_id, academic_year
),
ranked AS (
    SELECT
        m.*,
        rank() OVER (PARTITION BY m.peer_set, m.indicator_id, m.academic_year, m.computable
                     ORDER BY m.score DESC) AS rank_best,
        count(*) OVER (PARTITION BY m.peer_set, m.indicator_id, m.academic_year, m.computable
                       ORDER BY m.score ASC) AS n_at_most
    FROM members AS m
),
joined AS (
    SELECT
        r.*,
        s.peer_n,
        s.peer_n >= $min_peer AS enough,
        s.peer_median,
        s.peer_q1,
        s.peer_q3,
        CASE WHEN r.computable AND s.peer_median <> 0
             THEN round((r.value - s.peer_median) / abs(s.peer_median)
                        * CASE WHEN r.direction = 'lower' THEN -1 ELSE 1 END, 9) END AS distance
    FROM ranked AS r
    JOIN stats AS s USING (peer_set, indicator_id, academic_year)
),
final AS (
    SELECT
        indicator_id,
        academic_year,
        peer_set,
        school_id,
        value,
        CASE WHEN computable AND enough THEN
            CASE WHEN rank_best <= $che_top * peer_n + 1e-9 THEN 'top'
                 WHEN n_at_most <= $che_bottom * peer_n + 1e-9 THEN 'bottom'
                 ELSE 'middle' END
        END AS che_group,
        CASE WHEN computable AND enough AND distance IS NOT NULL THEN
            CASE WHEN distance >= $ume_a THEN 'A'
                 WHEN distance >= $ume_b THEN 'B'
                 WHEN distance >= $ume_c THEN 'C'
                 WHEN distance >= $ume_d THEN 'D'
                 ELSE 'E' END
        END AS ume_group,
        peer_n,
        CASE WHEN enough THEN peer_median END AS peer_median,
        CASE WHEN enough THEN peer_q1 END AS peer_q1,
        CASE WHEN enough THEN peer_q3 END AS peer_q3,
        CASE WHEN enough AND computable THEN 100.0 * n_at_most / peer_n END AS percentile,
        CASE WHEN enough THEN distance END AS median_distance,
        change_1y,
        change_3y,
        nullif(concat_ws('; ',
            CASE WHEN NOT computable THEN 'no value: ' || coalesce(value_reason, 'not computable') END,
            CASE WHEN NOT enough
                 THEN printf('peer set has %d computable values, fewer than %d: no group', peer_n, $min_peer) END,
            CASE WHEN computable AND enough AND peer_median = 0
                 THEN 'peer median is 0: no A-E group (relative distance undefined)' END,
            CASE WHEN computable AND change_1y IS NULL
                 THEN printf('no computable value for %s: no 1-year change', year_1) END,
            CASE WHEN computable AND change_3y IS NULL
                 THEN printf('no computable value for %s: no 3-year change', year_3) END
        ), '') AS reason
    FROM joined
)
SELECT * FROM final
