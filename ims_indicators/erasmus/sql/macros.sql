-- Helpers used while reading the open data (temporary: they live as long as the connection).

-- An Erasmus institution code compared without any whitespace (incl. non-breaking and other Unicode
-- spaces) and in upper case: 'D  BERLIN13', 'D BERLIN13', 'd\u00a0berlin13' -> 'DBERLIN13'.
-- ASCII codes (nearly all) take the fast path; only codes with other characters go through the regex.
CREATE OR REPLACE TEMP MACRO erasmus_code_norm(code) AS
    CASE WHEN strlen(code) = length(code)
         THEN upper(replace(replace(replace(code, ' ', ''), chr(9), ''), chr(13), ''))
         ELSE upper(regexp_replace(code, '[\s\pZ\x{200B}\x{2060}\x{FEFF}]+', '', 'g')) END;

-- A published cell with the open data's ways of saying "missing" turned into NULL. (The reader already reads
-- the exact '-', 'Undefined' and '? Unknown ?' as NULL; this catches them with spaces around and a few more.
-- A chain of nullif, not IN (...): DuckDB turns a long IN list into a join per use.)
CREATE OR REPLACE TEMP MACRO erasmus_value(v) AS
    nullif(nullif(nullif(nullif(nullif(nullif(nullif(nullif(nullif(
        trim(v), ''), '-'), '--'), 'Undefined'), '? Unknown ?'), '?Unknown?'), 'Unknown'), 'N/A'), 'n/a');

CREATE OR REPLACE TEMP MACRO erasmus_yes_no(v) AS
    CASE lower(erasmus_value(v)) WHEN 'yes' THEN true WHEN 'y' THEN true WHEN 'no' THEN false WHEN 'n' THEN false END;
