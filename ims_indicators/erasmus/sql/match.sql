-- The rows of registry schools, _erasmus_rows: the wide read (scan.sql) given, in place, each row's line
-- (align.sql; when the wide read numbered its rows itself, lines.sql, _erasmus_lines is empty) and the registry
-- school on either side, matched on the normalised Erasmus code (the school of each spelling: spellings.sql). A
-- row that the bitmap let through but that concerns no registry school is deleted. In place, not copied: at
-- 10 M rows the kept rows are 3.3 M rows of 24 text fields, and a copy held them twice. The file order is kept
-- (by line) for the steps that follow.
ALTER TABLE _erasmus_wide ADD COLUMN sending_school VARCHAR;
ALTER TABLE _erasmus_wide ADD COLUMN receiving_school VARCHAR;

UPDATE _erasmus_wide AS w
SET source_row = coalesce(m.line, w.source_row), sending_school = m.sending_school,
    receiving_school = m.receiving_school
FROM (SELECT w.rowid AS pos, l.line, s.school_id AS sending_school, r.school_id AS receiving_school
      FROM _erasmus_wide w
      LEFT JOIN _erasmus_lines l ON l.pos = w.rowid
      LEFT JOIN _erasmus_spellings s ON s.spelling = w.sending_erasmus_code
      LEFT JOIN _erasmus_spellings r ON r.spelling = w.receiving_erasmus_code) m
WHERE w.rowid = m.pos;

DELETE FROM _erasmus_wide WHERE sending_school IS NULL AND receiving_school IS NULL;

DROP TABLE IF EXISTS _erasmus_rows;  -- an earlier file's
ALTER TABLE _erasmus_wide RENAME TO _erasmus_rows;
