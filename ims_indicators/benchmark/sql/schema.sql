-- Marts written by the benchmark stage (idempotent).
CREATE SCHEMA IF NOT EXISTS marts;

-- Which school × year belongs to which peer group ("country:DE", "size:large", "network", a list id).
CREATE TABLE IF NOT EXISTS marts.peer_set_members (
    peer_set      VARCHAR NOT NULL,
    set_id        VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    school_id     VARCHAR NOT NULL,
    academic_year VARCHAR NOT NULL
    -- unique (peer_set, school_id, academic_year) by construction
);

-- One row per indicator × year × peer group × member school: groups, peer statistics and trends.
CREATE TABLE IF NOT EXISTS marts.benchmark_groups (
    indicator_id      VARCHAR NOT NULL,
    academic_year     VARCHAR NOT NULL,
    peer_set          VARCHAR NOT NULL,
    school_id         VARCHAR NOT NULL,
    value             DOUBLE,
    che_group         VARCHAR,   -- top / middle / bottom (NULL: no group, see reason)
    ume_group         VARCHAR,   -- A … E (NULL: no group, see reason)
    peer_n            BIGINT NOT NULL,  -- computable values in the peer group
    peer_median       DOUBLE,
    peer_q1           DOUBLE,
    peer_q3           DOUBLE,
    percentile        DOUBLE,    -- % of peer values at most as good as the school's (direction-adjusted)
    median_distance   DOUBLE,    -- (value - median) / |median|, sign flipped for lower-is-better
    change_1y         DOUBLE,    -- value - value of the previous year
    change_3y         DOUBLE,    -- value - value three years before
    reason            VARCHAR
    -- unique (indicator_id, academic_year, peer_set, school_id) by construction; no index: rewritten each run
);
-- The rule that placed the group (catalogue `groups`): quartile, fixed, interval or none.
ALTER TABLE marts.benchmark_groups ADD COLUMN IF NOT EXISTS group_rule VARCHAR;

CREATE OR REPLACE VIEW marts.v_benchmark_groups AS
SELECT
    b.peer_set,
    b.academic_year,
    c.dimension,
    b.indicator_id,
    c.name AS indicator_name,
    c.unit,
    c.direction,
    b.school_id,
    s.name AS school_name,
    s.country_code,
    s.consent_to_be_named,
    b.value,
    b.group_rule,
    b.che_group,
    b.ume_group,
    b.peer_n,
    b.peer_median,
    b.peer_q1,
    b.peer_q3,
    b.percentile,
    b.median_distance,
    b.change_1y,
    b.change_3y,
    b.reason
FROM marts.benchmark_groups AS b
JOIN marts.indicator_catalogue AS c USING (indicator_id)
LEFT JOIN curated.schools AS s USING (school_id);
