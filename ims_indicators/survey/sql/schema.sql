-- The survey mart (idempotent). One row per school × academic year × item with at least one answer.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS marts.survey_items (
    school_id     VARCHAR NOT NULL,
    academic_year VARCHAR NOT NULL,
    item          VARCHAR NOT NULL,
    n             BIGINT NOT NULL,   -- answers (respondents who scored the item, or the school's `responses`)
    mean          DOUBLE,            -- on the scale 1 = very good … 6 = very poor (lower is better)
    sd            DOUBLE,            -- sample standard deviation
    ci_low        DOUBLE,            -- 95 % interval mean ± 1.96·sd/√n; NULL below the minimum n or without sd
    ci_high       DOUBLE,
    peer_mean     DOUBLE,            -- mean of the school means with n ≥ the minimum (same year and item)
    che_group     VARCHAR,           -- top / middle / bottom; NULL: no group (see reason)
    reason        VARCHAR,           -- why this group, or why none
    peer_schools  BIGINT NOT NULL,   -- schools behind peer_mean
    form          VARCHAR NOT NULL,  -- respondents / aggregated (mixed: both, pooled)
    PRIMARY KEY (school_id, academic_year, item)
);
ALTER TABLE marts.survey_items ADD COLUMN IF NOT EXISTS invited BIGINT;         -- students invited (the file states it)
ALTER TABLE marts.survey_items ADD COLUMN IF NOT EXISTS response_rate DOUBLE;   -- n / invited
ALTER TABLE marts.survey_items ADD COLUMN IF NOT EXISTS in_reference BOOLEAN;   -- counts in the peer mean
ALTER TABLE marts.survey_items ADD COLUMN IF NOT EXISTS eligible BOOLEAN;       -- ... and may get a group
-- Respondent answers left out (not in n): first-year students, and students whose year_of_study is missing
ALTER TABLE marts.survey_items ADD COLUMN IF NOT EXISTS excluded_first_year BIGINT;
ALTER TABLE marts.survey_items ADD COLUMN IF NOT EXISTS excluded_unknown_year BIGINT;
