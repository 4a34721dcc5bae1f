-- curated.{dataset}: the rows of the current submissions that passed, read from staging.{dataset}: a promotion
-- decides statuses (curate/promote.py) and copies no row (at a million rows the copy cost a third of the ingest).
-- Current: accepted, with or without quarantine, and superseded by no later submission for the same key.
-- Passed: no quarantine row of it stands (an approved override lets a held row through, meta.overrides).
CREATE OR REPLACE VIEW curated.{dataset} AS
SELECT s.*
FROM staging.{dataset} AS s
WHERE s.submission_id IN (
        SELECT c.submission_id FROM meta.submissions AS c
        WHERE c.dataset = '{dataset}' AND c.superseded_by IS NULL
          AND c.status IN ('accepted', 'accepted_with_quarantine'))
  AND NOT EXISTS (
        SELECT 1 FROM meta.quarantine AS q
        WHERE q.submission_id = s.submission_id AND q.source_row = s.source_row AND q.override_id IS NULL);
