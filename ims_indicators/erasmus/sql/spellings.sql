-- Every distinct spelling of an Erasmus code in the file (narrow read, index.sql), normalised once: the registry
-- school whose code it is (the wide read keeps the rows holding one and names their schools, scan.sql) and
-- whether it means "no code" (counts.sql). A file of millions of rows spells a few thousand codes. The registry's
-- spellings become the bitmap the reads test and the map from spelling to school (macros.sql: erasmus_school).
CREATE OR REPLACE TEMP TABLE _erasmus_spellings AS
SELECT s.spelling, r.school_id, erasmus_no_code(s.code) AS no_code
FROM (SELECT spelling, erasmus_code_norm(spelling) AS code
      FROM (SELECT sending AS spelling FROM _erasmus_index UNION SELECT receiving FROM _erasmus_index)
      WHERE spelling IS NOT NULL) s
LEFT JOIN _erasmus_registry r ON r.code = s.code;

SET VARIABLE erasmus_bits = (
    SELECT coalesce(bitstring_agg((hash(spelling) % getvariable('erasmus_n_bits'))::INTEGER, 0,
                                  getvariable('erasmus_n_bits') - 1),
                    repeat('0', getvariable('erasmus_n_bits'))::BIT)
    FROM _erasmus_spellings WHERE school_id IS NOT NULL);

SET VARIABLE erasmus_schools = (
    SELECT map(list(spelling), list(school_id)) FROM _erasmus_spellings WHERE school_id IS NOT NULL);
