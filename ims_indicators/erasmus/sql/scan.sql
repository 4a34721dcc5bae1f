-- One streaming pass over an open-data file inside DuckDB: read every line as text, number the rows,
-- compare both Erasmus codes with the registry, and keep only the rows that concern a registry school.
-- Lines with the wrong number of fields are not rows: DuckDB puts them in the rejects table with their line
-- number (store_rejects). The rows dropped are counted by counts.sql (a second, narrow read of two columns).
-- source_row is the file line when no line was rejected (row k + the header); lines.sql corrects it after
-- rejected lines.
--
-- The loader fills in two placeholders (identifiers and options from its own constants, never data):
-- "source" is the read_csv call (explicit options, every column VARCHAR, the path bound as $path);
-- "columns" the internal field names (a field the file's layout lacks is NULL).
CREATE OR REPLACE TEMP TABLE _erasmus_rows AS
WITH src AS (
    SELECT row_number() OVER () AS data_row,  -- streaming: the n-th row read, in file order
           {columns}
    FROM {source}
), matched AS (
    SELECT src.*, s.school_id AS sending_school, r.school_id AS receiving_school
    FROM src
    LEFT JOIN _erasmus_registry s ON s.code = erasmus_code_norm(src.sending_erasmus_code)
    LEFT JOIN _erasmus_registry r ON r.code = erasmus_code_norm(src.receiving_erasmus_code)
), final AS (
    SELECT (data_row + 1)::BIGINT AS source_row, *
    FROM matched
    WHERE sending_school IS NOT NULL OR receiving_school IS NOT NULL
)
SELECT * FROM final;
