-- The file line of every kept row when the wide read numbered its rows (scan.sql, should align.sql fail): the
-- lines it rejected are not rows, so the line of the k-th row is k + 1 (the header) + the number of rejected
-- lines before it. Before the j-th rejected line (line r_j) come r_j - j - 1 rows, hence the ASOF join. The
-- scan wrote k + 1: only rows after a rejected line change. (Blank lines are skipped silently by the reader:
-- after one, lines are counted one short.)
UPDATE _erasmus_wide SET source_row = f.source_row
FROM (
    WITH rejected AS (
        SELECT line, row_number() OVER (ORDER BY line) AS j
        FROM (SELECT DISTINCT line FROM _erasmus_rejects)
    ), rows_before AS (
        SELECT line - j - 1 AS n_before, max(j) AS j FROM rejected GROUP BY n_before  -- lines in a row: the last
    )
    SELECT k.data_row, (k.data_row + 1 + b.j)::BIGINT AS source_row
    FROM (SELECT source_row - 1 AS data_row FROM _erasmus_wide) k ASOF JOIN rows_before b ON k.data_row > b.n_before
) f
WHERE _erasmus_wide.source_row - 1 = f.data_row;
