-- The wide read of an open-data file: every line as text, the rows that may concern a registry school kept
-- as _erasmus_wide with the registry school on either side (the bitmap of the registry's spellings and the map
-- from spelling to school, macros.sql: erasmus_school; match.sql drops the few rows that concern none),
-- the rest never held. Lines with the wrong number of fields, or an unreadable field, are not rows: DuckDB puts
-- them in _erasmus_rejects with their line number. The kept rows are a table of the load's work database,
-- erasmus_work (in memory, or a file when they would not fit in memory: load.py, attach_work). source_row, the
-- row's line in the file, comes afterwards from the narrow read (align.sql), or, should the two reads not line up,
-- from numbering the rows while reading ("number" = row_number() OVER (): slower, as DuckDB then reads on one
-- thread) and correcting the numbers after rejected lines (lines.sql).
--
-- The loader fills in three placeholders (identifiers and options from its own constants, never data):
-- "source" is the read_csv call (explicit options, every column VARCHAR, the path bound as $path);
-- "columns" the internal field names (a field the file's layout lacks is NULL); "number" NULL or the numbering.
CREATE OR REPLACE TABLE erasmus_work._erasmus_wide AS
WITH src AS (
    SELECT {number} AS data_row, {columns}
    FROM {source}
)
SELECT (data_row + 1)::BIGINT AS source_row, * EXCLUDE (data_row),
       erasmus_school(sending_erasmus_code) AS sending_school,
       erasmus_school(receiving_erasmus_code) AS receiving_school
FROM src
WHERE erasmus_maybe_registry(sending_erasmus_code) OR erasmus_maybe_registry(receiving_erasmus_code);
