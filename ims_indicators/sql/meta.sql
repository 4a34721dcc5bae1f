-- Warehouse bookkeeping: what was received and what was held back.
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS curated;
CREATE SCHEMA IF NOT EXISTS marts;

-- One row per received file (a submission for dataset × school × year × source).
CREATE TABLE IF NOT EXISTS meta.submissions (
    submission_id    VARCHAR PRIMARY KEY,
    dataset          VARCHAR NOT NULL,
    school_id        VARCHAR,          -- NULL for the registry (dataset schools)
    academic_year    VARCHAR,          -- NULL for the registry
    source           VARCHAR NOT NULL, -- 'school' or 'erasmus_open_data'
    file_name        VARCHAR NOT NULL,
    stored_path      VARCHAR,          -- where the received bytes are kept, relative to IMS_HOME
    sha256           VARCHAR NOT NULL,
    received_at      TIMESTAMP NOT NULL,
    status           VARCHAR NOT NULL, -- staged, accepted, accepted_with_quarantine, rejected
    reason           VARCHAR,
    rows_in          BIGINT,
    rows_quarantined BIGINT,
    superseded_by    VARCHAR,
    repairs          VARCHAR           -- what the reader repaired, e.g. mojibake fixed by ftfy (NULL: nothing)
);
ALTER TABLE meta.submissions ADD COLUMN IF NOT EXISTS repairs VARCHAR;  -- warehouses from before the column

-- Rows held back, with the rule they broke and a sentence a steward understands.
CREATE TABLE IF NOT EXISTS meta.quarantine (
    submission_id  VARCHAR NOT NULL,
    source_row     BIGINT,           -- line in the CSV / row in the sheet, as the sender sees it
    stage          VARCHAR NOT NULL, -- read, validate, cross
    rule           VARCHAR NOT NULL,
    column_name    VARCHAR,
    reason         VARCHAR NOT NULL,
    row_json       VARCHAR,          -- the row as received (person references pseudonymised)
    quarantined_at TIMESTAMP NOT NULL
);

-- Every validation result: one row per submission × expectation (kind 'gx') or cross-dataset check ('cross').
CREATE TABLE IF NOT EXISTS meta.validation_runs (
    run_id           VARCHAR NOT NULL,   -- one per dataset per `ims ingest` / `ims validate`
    run_at           TIMESTAMP NOT NULL,
    submission_id    VARCHAR NOT NULL,
    dataset          VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,   -- gx, cross
    rule             VARCHAR NOT NULL,   -- expectation type or check name
    column_name      VARCHAR,
    severity         VARCHAR,            -- critical (holds rows back), warning, info
    success          BOOLEAN NOT NULL,
    element_count    BIGINT,
    unexpected_count BIGINT,
    observed_value   VARCHAR,
    details          JSON                -- reason template, kwargs, first unexpected rows and values
);

-- Rows a steward let through despite a fatal rule (written by collection/overrides.py only). The curated rows
-- promoted by an override keep their submission_id and source_row: join on those and source_rows to trace them.
CREATE TABLE IF NOT EXISTS meta.overrides (
    override_id    VARCHAR PRIMARY KEY,
    submission_id  VARCHAR NOT NULL,
    dataset        VARCHAR NOT NULL,
    school_id      VARCHAR NOT NULL,
    academic_year  VARCHAR NOT NULL,
    rule           VARCHAR NOT NULL,
    source_rows    BIGINT[] NOT NULL,
    justification  VARCHAR NOT NULL,
    requested_by   VARCHAR NOT NULL,   -- token id of the keyholder
    requested_at   TIMESTAMP NOT NULL,
    approved_by    VARCHAR NOT NULL,   -- token id of the steward
    approved_at    TIMESTAMP NOT NULL,
    rows_promoted  BIGINT NOT NULL,
    promoted_at    TIMESTAMP NOT NULL
);
-- The quarantine row an approved override let through (NULL: still held back).
ALTER TABLE meta.quarantine ADD COLUMN IF NOT EXISTS override_id VARCHAR;

-- Every action of the collection (upload, confirm, explain, request, approve, reject, sign-off, unlock, tokens):
-- append-only, copied from the portal's collection.db (where the portal writes, also while another process
-- holds the warehouse) by collection/audit.py only, whenever the portal's worker or the pipeline holds it.
CREATE TABLE IF NOT EXISTS meta.audit_log (
    seq            BIGINT PRIMARY KEY, -- the entry's number in collection.db
    acted_at       TIMESTAMP NOT NULL, -- when (UTC)
    token_id       VARCHAR NOT NULL,   -- who: token id ('cli' for the command line)
    role           VARCHAR NOT NULL,   -- keyholder, steward, analyst
    action         VARCHAR NOT NULL,
    school_id      VARCHAR,
    academic_year  VARCHAR,
    dataset        VARCHAR,
    target         VARCHAR,            -- upload job, rule, override id
    details        JSON,
    copied_at      TIMESTAMP NOT NULL
);
