-- Every row read and those with no Erasmus code on either side (a code is missing or spelt as none:
-- spellings.sql), from the narrow read (index.sql), less the lines only the wide read rejected (they are corrupt
-- lines, not rows; their ordinal among the index rows is the line - 1 - the lines the narrow read rejected before
-- it). The rows between organisations that are not in the registry are the rest (rows read - rows of registry
-- schools - no code).
WITH extra AS (
    SELECT DISTINCT line FROM _erasmus_rejects
    WHERE line NOT IN (SELECT line FROM _erasmus_rejects_index)
), extra_rows AS (
    SELECT e.line - 1 - (SELECT count(DISTINCT i.line) FROM _erasmus_rejects_index i WHERE i.line < e.line) AS k
    FROM extra e
), none AS (
    SELECT spelling FROM _erasmus_spellings WHERE no_code
), marked AS (
    SELECT rowid, (sending IS NULL OR sending IN (SELECT spelling FROM none))
                  AND (receiving IS NULL OR receiving IN (SELECT spelling FROM none)) AS no_code
    FROM _erasmus_index
)
SELECT (SELECT count(*) FROM _erasmus_index) - (SELECT count(*) FROM extra_rows) AS rows_read,
       (SELECT count(*) FILTER (WHERE no_code) FROM marked)
       - (SELECT count(*) FROM extra_rows x JOIN marked i ON i.rowid = x.k - 1 WHERE i.no_code) AS no_code;
