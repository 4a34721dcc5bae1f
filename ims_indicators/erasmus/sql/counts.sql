-- What the scan dropped, counted on a second read of the file that takes only the two Erasmus codes (DuckDB
-- parses the other fields without keeping them): every row read, and those with no Erasmus code on either side.
-- The rows between organisations that are not in the registry are the rest (rows read - kept - no code).
-- "source" is the same read_csv call as scan.sql's, its rejected lines not stored again.
SELECT count(*)::BIGINT AS rows_read,
       count(*) FILTER (WHERE coalesce(erasmus_code_norm(sending_erasmus_code), '') IN ('', '-')
                          AND coalesce(erasmus_code_norm(receiving_erasmus_code), '') IN ('', '-'))::BIGINT AS no_code
FROM {source};
