-- The narrow read (index.sql) kept only as what the steps after it need, and dropped before the wide read (at
-- 10 M rows it held 320 MB): the rows that may concern a registry school, by ordinal k (rowid + 1), with a hash
-- of their two codes (align.sql; the bitmap of the registry spellings: spellings.sql, macros.sql), the ordinals
-- of the rows with no code on either side, and the number of rows (variable erasmus_rows_read; counts.sql).
CREATE OR REPLACE TEMP TABLE _erasmus_candidates AS
SELECT rowid + 1 AS k, hash(sending, receiving) AS kept FROM _erasmus_index
WHERE erasmus_maybe_registry(sending) OR erasmus_maybe_registry(receiving);

CREATE OR REPLACE TEMP TABLE _erasmus_no_code AS
WITH none AS (SELECT spelling FROM _erasmus_spellings WHERE no_code)
SELECT rowid + 1 AS k FROM _erasmus_index
WHERE (sending IS NULL OR sending IN (SELECT spelling FROM none))
  AND (receiving IS NULL OR receiving IN (SELECT spelling FROM none));

SET VARIABLE erasmus_rows_read = (SELECT count(*) FROM _erasmus_index);

DROP TABLE _erasmus_index;
