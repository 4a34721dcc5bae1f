-- One streaming pass over an open-data file inside DuckDB: read every line as text, number the rows,
-- compare both Erasmus codes with the registry, and keep only the rows that concern a registry school.
-- Everything else is counted, not kept (data_row -1: neither side has an Erasmus code; -2: codes of
-- organisations that are not in the registry). Lines with the wrong number of fields are not rows: DuckDB
-- puts them in the rejects table with their line number (store_rejects).
--
-- The loader fills in three placeholders (identifiers and options from its own constants, never data):
-- "source" is the read_csv call (explicit options, every column VARCHAR, the path bound as $path);
-- "columns" the internal field names (a field the file's layout lacks is NULL);
-- "payload" any_value(<field>) FILTER (WHERE keep) AS <field>, for every field.
CREATE OR REPLACE TEMP TABLE _erasmus_scan AS
WITH src AS (
    SELECT row_number() OVER () AS data_row,  -- streaming: the n-th row read, in file order
           {columns}
    FROM {source}
), coded AS (
    SELECT src.*,
           erasmus_code_norm(sending_erasmus_code) AS sending_code,
           erasmus_code_norm(receiving_erasmus_code) AS receiving_code
    FROM src
), matched AS (
    SELECT coded.*, s.school_id AS sending_school, r.school_id AS receiving_school,
           s.school_id IS NOT NULL OR r.school_id IS NOT NULL AS keep
    FROM coded
    LEFT JOIN _erasmus_registry s ON s.code = coded.sending_code
    LEFT JOIN _erasmus_registry r ON r.code = coded.receiving_code
), final AS (
    SELECT CASE WHEN keep THEN data_row
                WHEN coalesce(sending_code, '') IN ('', '-') AND coalesce(receiving_code, '') IN ('', '-') THEN -1
                ELSE -2 END AS data_row,
           count(*) AS n_rows,
           any_value(sending_school) FILTER (WHERE keep) AS sending_school,
           any_value(receiving_school) FILTER (WHERE keep) AS receiving_school,
           {payload}
    FROM matched
    GROUP BY 1
)
SELECT * FROM final;
