-- The file line of every kept row when the wide read numbered its rows (scan.sql, should align.sql fail): the
-- lines it rejected are not rows, so the line of the k-th row is k + 1 (the header) + the number of rejected
-- lines before it (macros.sql: erasmus_rows_before). The scan wrote k + 1: only rows after a rejected line
-- change. (Blank lines are skipped silently by the reader: after one, lines are counted one short.)
UPDATE erasmus_work._erasmus_wide SET source_row = f.source_row
FROM (
    SELECT k.data_row, (k.data_row + 1 + b.j)::BIGINT AS source_row
    FROM (SELECT source_row - 1 AS data_row FROM erasmus_work._erasmus_wide) k
    ASOF JOIN erasmus_rows_before('_erasmus_rejects') b ON k.data_row > b.n_before
) f
WHERE _erasmus_wide.source_row - 1 = f.data_row;
