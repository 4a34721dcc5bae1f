-- The narrow read of an open-data file: one small row per data row, in the order read, so that a row's rowid
-- is its ordinal among the rows read (no join, no window: DuckDB reads on all threads and keeps the order).
-- It takes only the two Erasmus codes, as published: they are normalised afterwards once per distinct spelling
-- (spellings.sql), not once per row (normalising two codes per row cost a third of this read). Its rejected lines
-- go to _erasmus_rejects_index. The wide read (scan.sql) rejects them too, and, as DuckDB checks the encoding of
-- the fields it reads only, also a line with an unreadable field elsewhere: align.sql and counts.sql set those
-- aside. "source" is the read_csv call (explicit options, every column VARCHAR, the path bound as $path).
CREATE OR REPLACE TEMP TABLE _erasmus_index AS
SELECT sending_erasmus_code AS sending, receiving_erasmus_code AS receiving
FROM {source};
