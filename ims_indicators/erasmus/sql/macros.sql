-- Helpers used while reading the open data (temporary: they live as long as the connection).

-- An Erasmus institution code compared without any whitespace (incl. non-breaking and other Unicode
-- spaces) and in upper case: 'D  BERLIN13', 'D BERLIN13', 'd\u00a0berlin13' -> 'DBERLIN13'.
-- ASCII codes (nearly all) take the fast path; only codes with other characters go through the regex.
CREATE OR REPLACE TEMP MACRO erasmus_code_norm(code) AS
    CASE WHEN strlen(code) = length(code)
         THEN upper(replace(replace(replace(code, ' ', ''), chr(9), ''), chr(13), ''))
         ELSE upper(regexp_replace(code, '[\s\pZ\x{200B}\x{2060}\x{FEFF}]+', '', 'g')) END;

-- Spaces around a published value dropped (trim only where there are any: trim is slow on millions of cells).
CREATE OR REPLACE TEMP MACRO erasmus_trim(v) AS
    CASE WHEN starts_with(v, ' ') OR ends_with(v, ' ') THEN trim(v) ELSE v END;

-- A (trimmed) published cell with the open data's ways of saying "missing" turned into NULL. The reader already
-- reads the exact '-', 'Undefined' and '? Unknown ?' as NULL; this catches them after trimming and a few more.
-- Plain comparisons: DuckDB turns a long IN (...) list into a join per use.
CREATE OR REPLACE TEMP MACRO erasmus_value(v) AS
    CASE WHEN v = '' OR v = '-' OR v = '--' OR v = 'Undefined' OR v = '? Unknown ?' OR v = '?Unknown?'
              OR v = 'Unknown' OR v = 'N/A' OR v = 'n/a' THEN NULL ELSE v END;

-- A published cell as map.sql reads it: trimmed, and NULL where it says "missing".
CREATE OR REPLACE TEMP MACRO erasmus_clean(v) AS erasmus_value(erasmus_trim(v));

CREATE OR REPLACE TEMP MACRO erasmus_yes_no(v) AS
    CASE lower(erasmus_value(v)) WHEN 'yes' THEN true WHEN 'y' THEN true WHEN 'no' THEN false WHEN 'n' THEN false END;

-- Whether a code as published may be a registry school's: its bit in a bitmap of the file's spellings of the
-- registry's codes (the variable erasmus_bits, set by spellings.sql; a Bloom filter with one hash). A scalar test,
-- unlike a join or a long IN list, keeps the rows in the order they were read, so that the reads of scan.sql and
-- index.sql line up (align.sql). It lets through a few codes that are not the registry's (about 1 in 3,500 for
-- 300 spellings and 2^20 bits): match.sql drops them.
SET VARIABLE erasmus_n_bits = 1048576;
CREATE OR REPLACE TEMP MACRO erasmus_maybe_registry(code) AS
    get_bit(getvariable('erasmus_bits'), (hash(code) % getvariable('erasmus_n_bits')::UBIGINT)::INTEGER) = 1;

-- The registry school whose code a published code is, or NULL: looked up, as spelt in the file, in the map of the
-- registry's spellings (variable erasmus_schools, set by spellings.sql) when its bit says it may be one. A scalar
-- too (scan.sql): the wide read names each kept row's schools as it reads it, instead of an update afterwards (at
-- 10 M rows an update of the two columns cost 1.7 s more than one of the line alone: match.sql).
CREATE OR REPLACE TEMP MACRO erasmus_school(code) AS
    CASE WHEN erasmus_maybe_registry(code) THEN getvariable('erasmus_schools')[code] END;

-- A mobility row's reference in the contract (mobility_ref): the project and the line of the file, as published
-- (a project holds many mobilities; the line tells them apart). Made as map.sql's rows are staged (load.py).
CREATE OR REPLACE TEMP MACRO erasmus_mobility_ref(project_reference, source_row) AS
    coalesce(project_reference, 'erasmus') || '#L' || source_row;

-- No Erasmus code: a normalised code that is empty or '-' (plain comparisons: an IN list may become a join).
CREATE OR REPLACE TEMP MACRO erasmus_no_code(code_norm) AS
    coalesce(code_norm, '') = '' OR code_norm = '-';

-- Per run of rejected lines, the number of rows read before it (n_before) and how many lines were rejected up to
-- its end (j): before the j-th rejected line (line r_j) come r_j - j - 1 rows, so the row with ordinal k is on line
-- k + 1 (the header) + the j of the last run with n_before < k (an ASOF join: align.sql, lines.sql). Adjacent
-- rejected lines share an n_before: the last of them counts. "rejects": the name of a rejects table.
CREATE OR REPLACE TEMP MACRO erasmus_rows_before(rejects) AS TABLE
    SELECT line - j - 1 AS n_before, max(j) AS j
    FROM (SELECT line, row_number() OVER (ORDER BY line) AS j FROM (SELECT DISTINCT line FROM query_table(rejects)))
    GROUP BY n_before;
