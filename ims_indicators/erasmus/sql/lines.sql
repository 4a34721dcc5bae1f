-- The file line of every kept row. DuckDB numbers the rows it read (data_row); the lines it rejected are
-- not rows, so the line of the k-th row is k + 1 (the header) + the number of rejected lines before it.
-- Before the j-th rejected line (line r_j) come r_j - j - 1 rows, hence the ASOF join.
-- (Blank lines are skipped silently by the reader: after one, lines are counted one short.)
CREATE OR REPLACE TEMP TABLE _erasmus_rows AS
WITH rejected AS (
    SELECT line, row_number() OVER (ORDER BY line) AS j
    FROM (SELECT DISTINCT line FROM _erasmus_rejects)
), rows_before AS (
    SELECT line - j - 1 AS n_before, j FROM rejected
), kept AS (
    SELECT * FROM _erasmus_scan WHERE data_row > 0
), final AS (
    SELECT (kept.data_row + 1 + coalesce(b.j, 0))::BIGINT AS source_row, kept.* EXCLUDE (n_rows)
    FROM kept ASOF LEFT JOIN rows_before b ON kept.data_row > b.n_before
)
SELECT * FROM final;
