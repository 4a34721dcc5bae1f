-- Tables of the Erasmus+ mobility open data (the second source of mobility rows). Idempotent.
--
-- The mobility rows themselves go to staging.mobility / curated.mobility like a school's, under submissions
-- whose meta.submissions.source is 'erasmus_open_data'. What the open data says beyond the mobility
-- contract is kept here, one row per curated.mobility row (join on submission_id, source_row), so that
-- e.g. medicine (ISCED-F 0912) or health (091x) can be filtered: the Erasmus code names a whole university.

CREATE TABLE IF NOT EXISTS staging.erasmus_mobility (
    submission_id          VARCHAR NOT NULL,
    source_row             BIGINT NOT NULL,  -- line of the open-data file (header = 1)
    school_id              VARCHAR NOT NULL,
    academic_year          VARCHAR NOT NULL,
    direction              VARCHAR NOT NULL, -- outgoing: the school sends; incoming: it receives
    project_reference      VARCHAR,
    activity_mob           VARCHAR,          -- 'Activity (mob)' as published
    field_of_education     VARCHAR,          -- as published, e.g. '0912 - Medicine'
    isced_f_code           VARCHAR,          -- ISCED-F 2013 code: '0912' medicine, '091x' health
    education_level        VARCHAR,          -- as published, e.g. 'ISCED-7 - Second cycle …'
    participant_profile    VARCHAR,
    duration_days          INTEGER,
    nationality            VARCHAR,
    gender                 VARCHAR,
    age                    INTEGER,
    special_needs          BOOLEAN,
    fewer_opportunities    BOOLEAN,
    group_leader           BOOLEAN,
    sending_country        VARCHAR,          -- ISO 3166-1 alpha-2 (EL and UK read as GR and GB)
    sending_organisation   VARCHAR,
    sending_erasmus_code   VARCHAR,          -- as published (irregular spacing kept)
    receiving_country      VARCHAR,
    receiving_organisation VARCHAR,
    receiving_erasmus_code VARCHAR,
    participants           BIGINT,
    ec_academic_year       VARCHAR           -- 'Academic Year' as the EC publishes it (academic_year: the school's)
);
ALTER TABLE staging.erasmus_mobility ADD COLUMN IF NOT EXISTS ec_academic_year VARCHAR;

-- curated.erasmus_mobility: every row of the current (not superseded, not rejected) open-data submissions, the
-- rows held back included: a view of their staged rows, so the rows are written once. Join it from
-- curated.mobility, which holds only the rows that passed:
--   FROM curated.mobility m JOIN curated.erasmus_mobility e USING (submission_id, source_row, direction)
CREATE OR REPLACE VIEW curated.erasmus_mobility AS
SELECT e.*
FROM staging.erasmus_mobility AS e
WHERE e.submission_id IN (
    SELECT s.submission_id FROM meta.submissions AS s
    WHERE s.source = 'erasmus_open_data' AND s.superseded_by IS NULL
      AND s.status IN ('accepted', 'accepted_with_quarantine')
);

-- One row per load of an open-data file: what was read, kept, dropped and held back.
CREATE TABLE IF NOT EXISTS meta.erasmus_loads (
    sha256                 VARCHAR NOT NULL,
    registry_fingerprint   VARCHAR NOT NULL, -- registry codes + mapping version: same file and same → unchanged
    file_name              VARCHAR NOT NULL,
    file_submission_id     VARCHAR NOT NULL, -- the file's own record in meta.submissions (holds corrupt lines)
    loaded_at              TIMESTAMP NOT NULL,
    seconds                DOUBLE,
    summary                JSON NOT NULL
);
