-- Indicator values from numerator and denominator per school × year: the minimum-base rule, the coverage rule
-- (the denominator must cover min_coverage of its base, e.g. 90 % of academic headcount) and the reasons.
-- The per-source aggregates come first as CTEs (explain) or are temporary tables (compute).
WITH {ctes}parts AS (
{parts}
),
checked AS (
    SELECT
        *,
        numerator IS NOT NULL
            AND denominator IS NOT NULL
            AND denominator >= min_denominator
            AND raw_value IS NOT NULL
            AND isfinite(raw_value)
            AND (min_coverage IS NULL OR coverage_base > 0 AND denominator >= min_coverage * coverage_base) AS ok
    FROM parts
),
final AS (
    SELECT
        school_id,
        academic_year,
        indicator_id,
        CASE WHEN ok THEN raw_value END AS value,
        numerator,
        denominator,
        ok AS computable,
        CASE
            WHEN ok THEN NULL
            WHEN numerator_rows IS NULL
                THEN printf('no %s data for this school and year (data source %s)', numerator_source, source)
            WHEN denominator_rows IS NULL
                THEN printf('no %s data for this school and year (data source %s)', denominator_source, source)
            WHEN numerator IS NULL THEN 'numerator has no value: no row matches its condition'
            WHEN denominator IS NULL THEN 'denominator has no value: no row matches its condition'
            WHEN denominator < min_denominator
                THEN printf('base too small: denominator %g is below the minimum %g', denominator, min_denominator)
            WHEN min_coverage IS NOT NULL AND NOT coalesce(coverage_base > 0 AND denominator >= min_coverage * coverage_base, false)
                THEN printf('coverage too low: the reported base %g is %.0f %% of %s %g, below the required %.0f %%',
                            denominator, 100 * denominator / nullif(coverage_base, 0), coverage_name,
                            coalesce(coverage_base, 0), 100 * min_coverage)
            ELSE printf('value undefined for numerator %g and denominator %g', numerator, denominator)
        END AS reason,
        source
    FROM checked
)
SELECT * FROM final
