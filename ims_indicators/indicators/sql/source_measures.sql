-- One scan of a catalogue source for one data source: every measure that reads it, per school × year.
-- source_rows counts the source's rows of the school and year (NULL after a LEFT JOIN = no data at all).
SELECT
    school_id,
    academic_year,
    count(*) AS source_rows,
{measures}
FROM (
{source_sql}
) AS src
WHERE source = $data_source
GROUP BY school_id, academic_year
