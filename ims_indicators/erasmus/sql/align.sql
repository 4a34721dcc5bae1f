-- The line of the n-th row of the wide read (scan.sql: pos = n - 1), from the narrow read (index.sql). Both keep
-- the rows of the same bitmap test in file order (candidates.sql), so the n-th row kept by one is the n-th kept by
-- the other, once the lines only the wide read rejected are set aside. The index row with ordinal k is on line
-- k + 1 (the header) + the number of lines the narrow read rejected before it (macros.sql:
-- erasmus_rows_before). The loader then checks that each pair holds the same two codes (kept).
CREATE OR REPLACE TEMP TABLE _erasmus_lines AS
WITH lines AS (
    SELECT c.k, c.kept, (c.k + 1 + coalesce(b.j, 0))::BIGINT AS line
    FROM _erasmus_candidates c ASOF LEFT JOIN erasmus_rows_before('_erasmus_rejects_index') b ON c.k > b.n_before
)
SELECT row_number() OVER (ORDER BY k) - 1 AS pos, line, kept
FROM lines
WHERE line NOT IN (SELECT line FROM _erasmus_rejects);
