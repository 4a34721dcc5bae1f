-- marts.survey_items: students' judgements per school × year × item, grouped by CHE's confidence-interval rule.
--
-- Both submission forms meet in `parts`: respondent-level rows are aggregated here (count, avg, stddev_samp of
-- the scores answered); aggregated rows are used as the school sent them. Same data, same n/mean/sd, same group.
-- Eligible answers: students enrolled for at least one year (year_of_study >= 2). A respondent-level answer with
-- year_of_study 1 is left out, and so is one WITHOUT year_of_study: the student is not known to be eligible, so
-- the answer does not count; both are counted in excluded_first_year / excluded_unknown_year and named in the
-- reason (an item whose answers are all left out keeps a row with n = 0). An aggregated row must cover eligible
-- students only (the school states it; it carries no year_of_study).
-- A school's mean is IN THE REFERENCE (the peer mean) when it has >= $min_n answers and, with fewer than
-- $rate_below answers, a response rate n / students_invited >= $min_rate (the number invited must be stated).
-- It is ELIGIBLE for a group when, in addition, it has an sd and an interval half-width $z·sd/√n <= $max_half.
-- The rule (scale 1 = very good … 6 = very poor, so LOWER is better):
--   no group   n < $min_n (15), no sd, or fewer than $min_schools schools with n >= $min_n (no peer mean);
--   top        the whole 95 % interval mean ± $z·sd/√n lies below (better than) the peer mean: ci_high < peer mean;
--   bottom     the whole interval lies above (worse than) the peer mean: ci_low > peer mean;
--   middle     otherwise (the interval contains the peer mean).
-- Peer mean: the unweighted mean of the school means of the schools with n >= $min_n (same year and item).
INSERT INTO marts.survey_items BY NAME
WITH survey AS (
    SELECT school_id, academic_year, item, score, responses, mean, sd, students_invited
    FROM curated.student_survey
    WHERE score IS NULL OR year_of_study >= 2
),
excluded AS (  -- respondent answers left out: first-year students, and students of unknown year of study
    SELECT
        school_id, academic_year, item,
        count(*) FILTER (WHERE year_of_study = 1) AS excluded_first_year,
        count(*) FILTER (WHERE year_of_study IS NULL) AS excluded_unknown_year
    FROM curated.student_survey
    WHERE score IS NOT NULL AND (year_of_study IS NULL OR year_of_study < 2)
    GROUP BY school_id, academic_year, item
),
invited AS (
    SELECT school_id, academic_year, max(students_invited) AS invited
    FROM curated.student_survey
    GROUP BY school_id, academic_year
),
respondent_level AS (
    SELECT
        school_id, academic_year, item, 'respondents' AS form,
        count(score) AS n,
        avg(score) AS mean,
        stddev_samp(score) AS sd
    FROM survey
    WHERE score IS NOT NULL
    GROUP BY school_id, academic_year, item
),
aggregated AS (
    SELECT school_id, academic_year, item, 'aggregated' AS form, responses AS n, mean, sd
    FROM survey
    WHERE score IS NULL AND responses IS NOT NULL AND responses > 0
),
parts AS (
    SELECT * FROM respondent_level
    UNION ALL BY NAME
    SELECT * FROM aggregated
),
pooled AS (  -- one part per school × year × item as a rule; two (both forms in one file) are pooled exactly
    SELECT
        school_id, academic_year, item,
        CASE WHEN count(*) = 1 THEN any_value(form) ELSE 'mixed' END AS form,
        CAST(sum(n) AS BIGINT) AS n,
        CASE WHEN count(*) = 1 THEN any_value(mean) ELSE sum(n * mean) / sum(n) END AS mean,
        CASE
            WHEN count(*) = 1 THEN any_value(sd)
            WHEN bool_and(sd IS NOT NULL OR n = 1) AND sum(n) > 1
                THEN sqrt(greatest(sum((n - 1) * coalesce(sd, 0) ^ 2 + n * mean ^ 2)
                                   - sum(n * mean) ^ 2 / sum(n), 0) / (sum(n) - 1))
        END AS sd
    FROM parts
    GROUP BY school_id, academic_year, item
),
counted AS (  -- plus the items whose every answer was left out: n = 0, reported with the reason
    SELECT * FROM pooled
    UNION ALL BY NAME
    SELECT e.school_id, e.academic_year, e.item, 'respondents' AS form, CAST(0 AS BIGINT) AS n,
           CAST(NULL AS DOUBLE) AS mean, CAST(NULL AS DOUBLE) AS sd
    FROM excluded AS e
    ANTI JOIN pooled AS p USING (school_id, academic_year, item)
),
intervals AS (
    SELECT
        p.*,
        coalesce(e.excluded_first_year, 0) AS excluded_first_year,
        coalesce(e.excluded_unknown_year, 0) AS excluded_unknown_year,
        i.invited,
        p.n / nullif(i.invited, 0) AS response_rate,
        $z * p.sd / sqrt(p.n) AS half_width,
        p.n >= $min_n AS enough,
        CASE WHEN p.n >= $min_n THEN p.mean - $z * p.sd / sqrt(p.n) END AS ci_low,
        CASE WHEN p.n >= $min_n THEN p.mean + $z * p.sd / sqrt(p.n) END AS ci_high
    FROM counted AS p
    LEFT JOIN invited AS i USING (school_id, academic_year)
    LEFT JOIN excluded AS e USING (school_id, academic_year, item)
),
checked AS (
    SELECT
        *,
        n >= $rate_below OR coalesce(response_rate >= $min_rate, false) AS rate_ok,
        enough AND (n >= $rate_below OR coalesce(response_rate >= $min_rate, false)) AS in_reference,
        enough AND sd IS NOT NULL AND half_width <= $max_half
            AND (n >= $rate_below OR coalesce(response_rate >= $min_rate, false)) AS eligible
    FROM intervals
),
peer AS (
    SELECT
        academic_year, item,
        count(*) FILTER (WHERE in_reference) AS peer_schools,
        avg(mean) FILTER (WHERE in_reference) AS all_mean
    FROM checked
    GROUP BY academic_year, item
),
grouped AS (
    SELECT
        i.*,
        p.peer_schools,
        CASE WHEN p.peer_schools >= $min_schools THEN p.all_mean END AS peer_mean
    FROM checked AS i
    JOIN peer AS p USING (academic_year, item)
),
final AS (
    SELECT
        school_id,
        academic_year,
        item,
        n,
        mean,
        sd,
        ci_low,
        ci_high,
        peer_mean,
        CASE
            WHEN NOT eligible OR peer_mean IS NULL THEN NULL
            WHEN ci_high < peer_mean THEN 'top'
            WHEN ci_low > peer_mean THEN 'bottom'
            ELSE 'middle'
        END AS che_group,
        concat_ws('; ', CASE
            WHEN NOT enough
                THEN printf('fewer than %d responses: no interval, no group (CHE minimum)', $min_n)
            WHEN ci_low IS NULL THEN 'no standard deviation: no interval, no group'
            WHEN NOT rate_ok AND invited IS NULL
                THEN printf('fewer than %d answers and no number of students invited: response rate unknown, '
                            'no group', $rate_below)
            WHEN NOT rate_ok
                THEN printf('response rate %.1f %% (%d of %d invited) is below %.0f %% with fewer than %d answers: '
                            'no group', 100 * response_rate, n, invited, 100 * $min_rate, $rate_below)
            WHEN half_width > $max_half
                THEN printf('95 %% interval ±%.2f is wider than the limit ±%.2f: no group', half_width, $max_half)
            WHEN peer_mean IS NULL
                THEN printf('%d school(s) with %d or more responses, fewer than %d: no peer mean, no group',
                            peer_schools, $min_n, $min_schools)
            WHEN ci_high < peer_mean
                THEN printf('95 %% interval %.2f–%.2f lies entirely below (better than) the peer mean %.2f',
                            ci_low, ci_high, peer_mean)
            WHEN ci_low > peer_mean
                THEN printf('95 %% interval %.2f–%.2f lies entirely above (worse than) the peer mean %.2f',
                            ci_low, ci_high, peer_mean)
            ELSE printf('95 %% interval %.2f–%.2f contains the peer mean %.2f', ci_low, ci_high, peer_mean)
        END,
        -- no numbers here: the reason is printed, and a count of excluded students may be below the
        -- suppression threshold (the counts stay in excluded_first_year / excluded_unknown_year)
        CASE WHEN excluded_unknown_year > 0
             THEN 'answers without year_of_study left out: enrolment of at least one year not known' END,
        CASE WHEN excluded_first_year > 0 THEN 'answers of first-year students left out' END
        ) AS reason,
        peer_schools,
        form,
        invited,
        response_rate,
        in_reference,
        eligible,
        excluded_first_year,
        excluded_unknown_year
    FROM grouped
)
SELECT * FROM final
ORDER BY academic_year, item, school_id
