-- The rows of registry schools, _erasmus_rows: each row of the wide read (scan.sql) with its line (align.sql;
-- when the wide read numbered its rows itself, lines.sql, _erasmus_lines is empty) and the registry school on
-- either side, matched on the normalised Erasmus code (the school of each spelling: spellings.sql). A row that
-- the bitmap let through but that concerns no registry school is dropped. The file order is kept (by line) for
-- the steps that follow.
CREATE OR REPLACE TEMP TABLE _erasmus_rows AS
SELECT coalesce(l.line, w.source_row) AS source_row, w.* EXCLUDE (source_row),
       s.school_id AS sending_school, r.school_id AS receiving_school
FROM _erasmus_wide w
LEFT JOIN _erasmus_lines l ON l.pos = w.rowid
LEFT JOIN _erasmus_spellings s ON s.spelling = w.sending_erasmus_code
LEFT JOIN _erasmus_spellings r ON r.spelling = w.receiving_erasmus_code
WHERE s.school_id IS NOT NULL OR r.school_id IS NOT NULL;
