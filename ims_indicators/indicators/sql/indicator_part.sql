-- indicator {indicator_id}: numerator {numerator_name} over {numerator_source}, denominator {denominator_name} over {denominator_source}
SELECT *, {scale} * ({formula}) AS raw_value
FROM (
    SELECT
        f.school_id,
        f.academic_year,
        '{indicator_id}' AS indicator_id,
        '{data_source}' AS source,
        '{numerator_source}' AS numerator_source,
        '{denominator_source}' AS denominator_source,
        n.source_rows AS numerator_rows,
        d.source_rows AS denominator_rows,
        {numerator} AS numerator,
        {denominator} AS denominator,
        CAST({min_denominator} AS DOUBLE) AS min_denominator,
        {coverage} AS coverage_base,
        {coverage_name} AS coverage_name,
        {min_coverage} AS min_coverage
    FROM marts.indicator_frame AS f
    LEFT JOIN {numerator_rel} AS n ON n.school_id = f.school_id AND n.academic_year = f.academic_year
    LEFT JOIN {denominator_rel} AS d ON d.school_id = f.school_id AND d.academic_year = f.academic_year{coverage_join}
)
