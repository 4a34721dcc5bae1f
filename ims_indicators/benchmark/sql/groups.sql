-- Groups, peer statistics and trends per indicator × year × peer group × school, by each indicator's declared
-- rule (marts.indicator_catalogue.groups; the rules are described in the catalogue's `benchmark:` section).
--
-- score = value, negated for lower-is-better indicators, so that a higher score is always better.
-- quartile  values within $tol × (peer max − min) of their neighbour are near-equal and form one cluster
--           (equal values always do). Clusters are numbered from the best (1). A top cut after cluster c
--           leaves top_n = values in clusters 1..c; of the cuts with $share_min <= top_n / peer_n <= $share_max,
--           the one nearest to $che_top wins, at equal distance the larger top (the crowd joins the better
--           group). The bottom cut is chosen likewise from the worst end among the clusters after the top
--           cut and at least one middle cluster, at equal distance the smaller bottom. No group when the peer
--           set has fewer than $min_peer values, fewer than $min_distinct clusters, or no admissible cut.
-- fixed     top when score >= oriented cutoff_top, bottom when score < oriented cutoff_bottom, else middle
--           (criterion-referenced: no peer minimum).
-- interval  survey means: no group here; the survey stage's CHE interval rule sets it (survey/sql).
-- none      profile only: no group, no letter (group_note says why).
-- A–E (U-Multirank): only for quartile indicators in peer sets with >= $ume_min_peer values:
--           d = (score - oriented median) / |median|; d >= $ume_a A, >= $ume_b B, >= $ume_c C, >= $ume_d D,
--           else E (a value on a cut-off goes to the better group; median 0: no letter).
-- Trends: change_1y = value - value of the year before; change_3y = value - value three years before.
-- Memory: the windows and the big joins carry only keys, scores and small numbers (members, ordered); the wide
-- text columns (the value's reason, the catalogue's note) are joined once, at the end, from 200k-row / 40-row
-- tables. Carrying them through the windows made this query hold ~1 GB at 500 schools × 10 years.
INSERT INTO marts.benchmark_groups BY NAME
WITH cat AS (
    SELECT
        indicator_id,
        coalesce(groups, 'quartile') AS group_rule,
        group_note,
        CASE WHEN direction = 'lower' THEN -1 ELSE 1 END AS sign,
        CASE WHEN direction = 'lower' THEN -cutoff_top ELSE cutoff_top END AS fixed_top,
        CASE WHEN direction = 'lower' THEN -cutoff_bottom ELSE cutoff_bottom END AS fixed_bottom
    FROM marts.indicator_catalogue
),
vals AS (
    SELECT
        v.school_id,
        v.academic_year,
        v.indicator_id,
        v.value,
        v.computable,
        c.group_rule,
        CASE WHEN c.sign = -1 THEN -v.value ELSE v.value END AS score,
        CAST(left(v.academic_year, 4) AS INTEGER) AS y
    FROM marts.indicator_values AS v
    JOIN cat AS c USING (indicator_id)
),
trend AS (  -- per school × year × indicator (not per peer set), with the value's reason
    SELECT
        t.school_id,
        t.academic_year,
        t.indicator_id,
        v.reason AS value_reason,
        t.value - p1.value AS change_1y,
        t.value - p3.value AS change_3y,
        printf('%d/%02d', t.y - 1, t.y % 100) AS year_1,
        printf('%d/%02d', t.y - 3, (t.y - 2) % 100) AS year_3
    FROM vals AS t
    JOIN marts.indicator_values AS v USING (school_id, academic_year, indicator_id)
    LEFT JOIN vals AS p1
        ON p1.school_id = t.school_id AND p1.indicator_id = t.indicator_id AND p1.y = t.y - 1 AND p1.computable
    LEFT JOIN vals AS p3
        ON p3.school_id = t.school_id AND p3.indicator_id = t.indicator_id AND p3.y = t.y - 3 AND p3.computable
),
members AS (
    SELECT m.peer_set, t.school_id, t.academic_year, t.indicator_id, t.value, t.computable, t.group_rule, t.score
    FROM marts.peer_set_members AS m
    JOIN vals AS t ON t.school_id = m.school_id AND t.academic_year = m.academic_year
),
stats AS (
    SELECT
        peer_set,
        indicator_id,
        academic_year,
        count(*) FILTER (WHERE computable) AS peer_n,
        median(value) FILTER (WHERE computable) AS peer_median,
        quantile_cont(value, 0.25) FILTER (WHERE computable) AS peer_q1,
        quantile_cont(value, 0.75) FILTER (WHERE computable) AS peer_q3,
        $tol * (max(score) FILTER (WHERE computable) - min(score) FILTER (WHERE computable)) AS near
    FROM members
    GROUP BY peer_set, indicator_id, academic_year
),
ordered AS (  -- best first within the computable (or the not computable) values; gap to the better neighbour
    SELECT
        m.*,
        lag(m.score) OVER w - m.score AS gap,
        rank() OVER w AS better_plus_one  -- 1 + values strictly better
    FROM members AS m
    WINDOW w AS (PARTITION BY m.peer_set, m.indicator_id, m.academic_year, m.computable ORDER BY m.score DESC)
),
clustered AS (  -- quartile rule: a new cluster starts after a clear gap (more than the near-equal tolerance)
    SELECT
        o.*,
        s.peer_n,
        s.peer_median,
        s.peer_q1,
        s.peer_q3,
        CASE WHEN o.computable AND o.group_rule = 'quartile' THEN
            sum(CASE WHEN o.gap IS NULL OR o.gap > s.near THEN 1 ELSE 0 END) OVER (
                PARTITION BY o.peer_set, o.indicator_id, o.academic_year, o.computable ORDER BY o.score DESC
                RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) END AS cluster  -- RANGE: ties share a cluster
    FROM ordered AS o
    JOIN stats AS s USING (peer_set, indicator_id, academic_year)
),
clusters AS (
    SELECT peer_set, indicator_id, academic_year, cluster, count(*) AS size
    FROM clustered
    WHERE cluster IS NOT NULL
    GROUP BY ALL
),
cuts AS (  -- for each cluster: values up to and including it (top side) and from it on (bottom side)
    SELECT
        c.*,
        s.peer_n,
        max(c.cluster) OVER p AS clusters,
        sum(c.size) OVER (p ORDER BY c.cluster ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
        sum(c.size) OVER (p ORDER BY c.cluster DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS from_here
    FROM clusters AS c
    JOIN stats AS s USING (peer_set, indicator_id, academic_year)
    WINDOW p AS (PARTITION BY c.peer_set, c.indicator_id, c.academic_year)
),
cluster_count AS (
    SELECT peer_set, indicator_id, academic_year, max(cluster) AS clusters
    FROM clusters
    GROUP BY ALL
),
top_cut AS (
    SELECT
        peer_set, indicator_id, academic_year,
        arg_min(cluster, (abs(upto / peer_n - $che_top), -upto)) AS top_last
    FROM cuts
    WHERE upto BETWEEN $share_min * peer_n - 1e-9 AND $share_max * peer_n + 1e-9 AND cluster <= clusters - 2
    GROUP BY ALL
),
bottom_cut AS (
    SELECT
        c.peer_set, c.indicator_id, c.academic_year,
        arg_min(c.cluster, (abs(c.from_here / c.peer_n - $che_bottom), c.from_here)) AS bottom_first
    FROM cuts AS c
    JOIN top_cut AS t USING (peer_set, indicator_id, academic_year)
    WHERE c.from_here BETWEEN $share_min * c.peer_n - 1e-9 AND $share_max * c.peer_n + 1e-9
      AND c.cluster >= t.top_last + 2
    GROUP BY ALL
),
joined AS (
    SELECT
        q.*,
        k.group_note,
        k.sign,
        k.fixed_top,
        k.fixed_bottom,
        t.value_reason,
        t.change_1y,
        t.change_3y,
        t.year_1,
        t.year_3,
        q.peer_n - q.better_plus_one + 1 AS n_at_most,
        q.peer_n >= $min_peer AS enough,
        n.clusters,
        CASE WHEN b.bottom_first IS NULL THEN NULL
             WHEN q.cluster <= tc.top_last THEN 'top'
             WHEN q.cluster >= b.bottom_first THEN 'bottom'
             ELSE 'middle' END AS quartile_group,
        CASE WHEN q.computable AND q.peer_median <> 0
             THEN round((q.value - q.peer_median) / abs(q.peer_median) * k.sign, 9) END AS distance
    FROM clustered AS q
    JOIN cat AS k USING (indicator_id)
    JOIN trend AS t USING (school_id, academic_year, indicator_id)
    LEFT JOIN cluster_count AS n USING (peer_set, indicator_id, academic_year)
    LEFT JOIN top_cut AS tc USING (peer_set, indicator_id, academic_year)
    LEFT JOIN bottom_cut AS b USING (peer_set, indicator_id, academic_year)
),
final AS (
    SELECT
        indicator_id,
        academic_year,
        peer_set,
        school_id,
        value,
        group_rule,
        CASE
            WHEN NOT computable THEN NULL
            WHEN group_rule = 'fixed' THEN
                CASE WHEN score >= fixed_top - 1e-9 THEN 'top'
                     WHEN score < fixed_bottom - 1e-9 THEN 'bottom'
                     ELSE 'middle' END
            WHEN group_rule = 'quartile' AND enough THEN quartile_group
        END AS che_group,
        CASE WHEN computable AND group_rule = 'quartile' AND peer_n >= $ume_min_peer AND enough
                  AND distance IS NOT NULL THEN
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
            CASE WHEN group_rule IN ('none', 'fixed') THEN group_rule || ' rule: ' || coalesce(group_note, '') END,
            CASE WHEN group_rule = 'quartile' AND NOT enough
                 THEN printf('peer set has %d computable values, fewer than %d: no group', peer_n, $min_peer) END,
            CASE WHEN group_rule = 'quartile' AND computable AND enough AND clusters = 1
                 THEN 'all peer values are equal (within the near-equal tolerance): no group'
                 WHEN group_rule = 'quartile' AND computable AND enough AND clusters < $min_distinct
                 THEN printf('only %d distinct peer values (near-equal ones merged), fewer than %d: no group',
                             clusters, $min_distinct)
                 WHEN group_rule = 'quartile' AND computable AND enough AND quartile_group IS NULL
                 THEN printf('values crowd at a quartile boundary and no clear gap leaves top and bottom '
                             'between %d %% and %d %% of the peer values: no group',
                             CAST(round(100 * $share_min) AS INTEGER), CAST(round(100 * $share_max) AS INTEGER)) END,
            CASE WHEN group_rule = 'quartile' AND computable AND enough AND peer_n < $ume_min_peer
                 THEN printf('peer set has %d computable values, fewer than %d: no A-E letter', peer_n,
                             $ume_min_peer)
                 WHEN group_rule = 'quartile' AND computable AND enough AND peer_median = 0
                 THEN 'peer median is 0: no A-E group (relative distance undefined)' END,
            CASE WHEN computable AND change_1y IS NULL
                 THEN printf('no computable value for %s: no 1-year change', year_1) END,
            CASE WHEN computable AND change_3y IS NULL
                 THEN printf('no computable value for %s: no 3-year change', year_3) END
        ), '') AS reason
    FROM joined
)
SELECT * FROM final
