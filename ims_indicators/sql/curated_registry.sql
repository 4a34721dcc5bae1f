-- curated.{dataset}, the registry: a file adds or updates the schools it lists, so each school's row is the one
-- that passed in the latest accepted file listing it (latest as submissions are decided: by received_at, then
-- id), read from staging.{dataset}; a school no file lists any more stays as last listed.
CREATE OR REPLACE VIEW curated.{dataset} AS
SELECT * EXCLUDE (_latest)
FROM (
    SELECT s.*, row_number() OVER (PARTITION BY s.school_id
                                   ORDER BY c.received_at DESC, c.submission_id DESC, s.source_row DESC) AS _latest
    FROM staging.{dataset} AS s
    JOIN meta.submissions AS c ON c.submission_id = s.submission_id
    WHERE c.dataset = '{dataset}' AND c.superseded_by IS NULL
      AND c.status IN ('accepted', 'accepted_with_quarantine')
      AND NOT EXISTS (
            SELECT 1 FROM meta.quarantine AS q
            WHERE q.submission_id = s.submission_id AND q.source_row = s.source_row AND q.override_id IS NULL))
WHERE _latest = 1;
