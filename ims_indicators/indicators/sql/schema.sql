-- Marts written by the indicator stage (idempotent). Views with friendly names sit on top.
CREATE SCHEMA IF NOT EXISTS marts;

-- The school × year frame every indicator is computed on: the registry × the years present in the data,
-- with the dates the year's indicators refer to.
CREATE TABLE IF NOT EXISTS marts.indicator_frame (
    school_id           VARCHAR NOT NULL,
    academic_year       VARCHAR NOT NULL,
    country_code        VARCHAR,
    year_start          DATE NOT NULL,
    year_end            DATE NOT NULL,
    reporting_date      DATE NOT NULL,   -- 'valid at the reporting date' (default: year_end)
    submission_deadline DATE NOT NULL,   -- a submission received on or before this day is on time
    expected_datasets   VARCHAR[] NOT NULL,
    PRIMARY KEY (school_id, academic_year)
);

-- The catalogue as a table (for reports, notebooks and BI tools).
CREATE TABLE IF NOT EXISTS marts.indicator_catalogue (
    indicator_id      VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    definition        VARCHAR NOT NULL,
    dimension         VARCHAR NOT NULL,
    unit              VARCHAR NOT NULL,
    direction         VARCHAR NOT NULL,
    numerator_name    VARCHAR NOT NULL,
    numerator_sql     VARCHAR NOT NULL,
    denominator_name  VARCHAR NOT NULL,
    denominator_sql   VARCHAR NOT NULL,
    formula           VARCHAR NOT NULL,
    scale             DOUBLE NOT NULL,
    min_denominator   DOUBLE NOT NULL,
    datasets          VARCHAR[] NOT NULL,
    data_source       VARCHAR NOT NULL,
    reference         VARCHAR NOT NULL,
    catalogue_version VARCHAR NOT NULL,
    position          INTEGER NOT NULL
);
-- How each indicator is benchmarked (catalogue `groups`): quartile, fixed (cutoff_top/bottom), interval, none.
ALTER TABLE marts.indicator_catalogue ADD COLUMN IF NOT EXISTS groups VARCHAR DEFAULT 'quartile';
ALTER TABLE marts.indicator_catalogue ADD COLUMN IF NOT EXISTS cutoff_top DOUBLE;
ALTER TABLE marts.indicator_catalogue ADD COLUMN IF NOT EXISTS cutoff_bottom DOUBLE;
ALTER TABLE marts.indicator_catalogue ADD COLUMN IF NOT EXISTS group_note VARCHAR;

-- One row per school × year × indicator of the frame; value NULL (computable false) with a reason.
CREATE TABLE IF NOT EXISTS marts.indicator_values (
    school_id     VARCHAR NOT NULL,
    academic_year VARCHAR NOT NULL,
    indicator_id  VARCHAR NOT NULL,
    value         DOUBLE,
    numerator     DOUBLE,
    denominator   DOUBLE,
    computable    BOOLEAN NOT NULL,
    reason        VARCHAR,
    source        VARCHAR NOT NULL    -- data source of the rows used ('school', 'erasmus_open_data')
    -- unique (school_id, academic_year, indicator_id) by construction; no index: rewritten whole each run
);

CREATE OR REPLACE VIEW marts.v_indicator_values AS
SELECT
    v.school_id,
    s.name AS school_name,
    s.country_code,
    s.consent_to_be_named,
    v.academic_year,
    c.dimension,
    v.indicator_id,
    c.name AS indicator_name,
    c.unit,
    c.direction,
    v.value,
    v.numerator,
    c.numerator_name,
    v.denominator,
    c.denominator_name,
    v.computable,
    v.reason,
    v.source
FROM marts.indicator_values AS v
JOIN marts.indicator_catalogue AS c USING (indicator_id)
LEFT JOIN curated.schools AS s USING (school_id);
