-- The narrow read of an open-data file: one small row per data row, in the order read, so that a row's rowid
-- is its ordinal among the rows read (no join, no window: DuckDB reads on all threads and keeps the order).
-- It takes only the two Erasmus codes: kept is a hash of both for a row that may concern a registry school
-- (macros.sql), NULL otherwise; no_code marks a row with no code on either side. Its rejected lines go to
-- _erasmus_rejects_index. The wide read (scan.sql) rejects them too, and, as DuckDB checks the encoding of the
-- fields it reads only, also a line with an unreadable field elsewhere: align.sql and counts.sql set those aside.
-- "source" is the read_csv call (explicit options, every column VARCHAR, the path bound as $path).
CREATE OR REPLACE TEMP TABLE _erasmus_index AS
SELECT CASE WHEN erasmus_maybe_registry(sending, $bits::BIT, $n_bits)
              OR erasmus_maybe_registry(receiving, $bits::BIT, $n_bits)
            THEN hash(sending_erasmus_code, receiving_erasmus_code) END AS kept,
       erasmus_no_code(sending) AND erasmus_no_code(receiving) AS no_code
FROM (SELECT sending_erasmus_code, receiving_erasmus_code, erasmus_code_norm(sending_erasmus_code) AS sending,
             erasmus_code_norm(receiving_erasmus_code) AS receiving  -- each code normalised once
      FROM {source});
