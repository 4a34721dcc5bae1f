-- The school × year frame: every registry school × every academic year present in the data.
-- $year_end_month/$year_end_day: the day the academic year ends (in its second calendar year);
-- $deadline_month/$deadline_day: the first such day after the year end is the submission deadline;
-- $reporting_date: a fixed reporting date (NULL: the year end); $expected_datasets: completeness base.
INSERT INTO marts.indicator_frame
WITH years AS (
    SELECT academic_year FROM curated.enrolment
    UNION SELECT academic_year FROM curated.mobility
    UNION SELECT academic_year FROM curated.staffing
    UNION SELECT academic_year FROM curated.accreditation
    UNION SELECT academic_year FROM meta.submissions WHERE dataset <> 'schools' AND academic_year IS NOT NULL
),
dated AS (
    SELECT
        academic_year,
        make_date(CAST(left(academic_year, 4) AS INTEGER), $year_end_month, $year_end_day)
            + INTERVAL 1 DAY AS year_start_ts,
        make_date(CAST(left(academic_year, 4) AS INTEGER) + 1, $year_end_month, $year_end_day) AS year_end
    FROM years
    WHERE regexp_full_match(academic_year, '\d{4}/\d{2}')
),
deadlines AS (
    SELECT
        academic_year,
        CAST(year_start_ts AS DATE) AS year_start,
        year_end,
        make_date(year(year_end), $deadline_month, $deadline_day) AS same_year_deadline
    FROM dated
),
final AS (
    SELECT
        s.school_id,
        d.academic_year,
        s.country_code,
        d.year_start,
        d.year_end,
        coalesce(CAST($reporting_date AS DATE), d.year_end) AS reporting_date,
        CASE WHEN d.same_year_deadline > d.year_end THEN d.same_year_deadline
             ELSE CAST(d.same_year_deadline + INTERVAL 1 YEAR AS DATE) END AS submission_deadline,
        CAST($expected_datasets AS VARCHAR[]) AS expected_datasets
    FROM curated.schools AS s
    CROSS JOIN deadlines AS d
)
SELECT * FROM final
