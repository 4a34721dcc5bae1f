-- Every row read and those with no Erasmus code on either side, from the narrow read (index.sql), less the lines
-- only the wide read rejected (they are corrupt lines, not rows; their ordinal among the index rows is the line
-- - 1 - the lines the narrow read rejected before it). The rows between organisations that are not in the
-- registry are the rest (rows read - rows of registry schools - no code).
WITH extra AS (
    SELECT DISTINCT line FROM _erasmus_rejects
    WHERE line NOT IN (SELECT line FROM _erasmus_rejects_index)
), extra_rows AS (
    SELECT e.line - 1 - (SELECT count(DISTINCT i.line) FROM _erasmus_rejects_index i WHERE i.line < e.line) AS k
    FROM extra e
)
SELECT (SELECT count(*) FROM _erasmus_index) - (SELECT count(*) FROM extra_rows) AS rows_read,
       (SELECT count(*) FILTER (WHERE no_code) FROM _erasmus_index)
       - (SELECT count(*) FROM extra_rows x JOIN _erasmus_index i ON i.rowid = x.k - 1 WHERE i.no_code) AS no_code;
