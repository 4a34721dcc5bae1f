-- The file line of every kept row. DuckDB numbers the rows it read (data_row); the lines it rejected are
-- not rows, so the line of the k-th row is k + 1 (the header) + the number of rejected lines before it.
-- Before the j-th rejected line (line r_j) come r_j - j - 1 rows, hence the ASOF join. The scan wrote k + 1:
-- only rows after a rejected line change. (Blank lines are skipped silently by the reader: after one, lines
-- are counted one short.)
UPDATE _erasmus_rows SET source_row = f.source_row
FROM (
    WITH rejected AS (
        SELECT line, row_number() OVER (ORDER BY line) AS j
        FROM (SELECT DISTINCT line FROM _erasmus_rejects)
    ), rows_before AS (
        SELECT line - j - 1 AS n_before, j FROM rejected
    )
    SELECT k.data_row, (k.data_row + 1 + b.j)::BIGINT AS source_row
    FROM (SELECT data_row FROM _erasmus_rows) k ASOF JOIN rows_before b ON k.data_row > b.n_before
) f
WHERE _erasmus_rows.data_row = f.data_row;
