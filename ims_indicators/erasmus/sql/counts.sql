-- Every row read and those with no Erasmus code on either side (a code is missing or spelt as none), from the
-- narrow read (candidates.sql), less the lines only the wide read rejected (they are corrupt lines, not rows; their
-- ordinal k among the index rows is the line - 1 - the lines the narrow read rejected before it). The rows between
-- organisations that are not in the registry are the rest (rows read - rows of registry schools - no code).
WITH extra AS (
    SELECT DISTINCT line FROM _erasmus_rejects
    WHERE line NOT IN (SELECT line FROM _erasmus_rejects_index)
), extra_rows AS (
    SELECT e.line - 1 - (SELECT count(DISTINCT i.line) FROM _erasmus_rejects_index i WHERE i.line < e.line) AS k
    FROM extra e
)
SELECT getvariable('erasmus_rows_read') - (SELECT count(*) FROM extra_rows) AS rows_read,
       (SELECT count(*) FROM _erasmus_no_code)
       - (SELECT count(*) FROM extra_rows x JOIN _erasmus_no_code n USING (k)) AS no_code;
