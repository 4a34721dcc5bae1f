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

CREATE OR REPLACE TEMP MACRO erasmus_yes_no(v) AS
    CASE lower(erasmus_value(v)) WHEN 'yes' THEN true WHEN 'y' THEN true WHEN 'no' THEN false WHEN 'n' THEN false END;
