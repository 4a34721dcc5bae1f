-- Open-data rows of registry schools -> rows of the mobility contract, plus what the open data says beyond it.
-- A row whose sending organisation is a registry school is 'outgoing' for that school, one whose receiving
-- organisation is, 'incoming' (a row between two registry schools gives one row to each). The partner is the
-- other side. Mapping tables: mapping.sql. Reads _erasmus_rows (lines.sql), writes _erasmus_mapped.
CREATE OR REPLACE TEMP TABLE _erasmus_mapped AS
WITH rows AS NOT MATERIALIZED (
    SELECT * FROM _erasmus_rows
), activity_lookup AS (  -- the mapping tables are matched on the few distinct published values, then joined back
    SELECT a.activity_text, am.participant_type, am.activity
    FROM (SELECT DISTINCT erasmus_value(activity_mob) AS activity_text FROM _erasmus_rows) a
    LEFT JOIN _erasmus_activity_map am ON lower(a.activity_text) LIKE am.pattern
    QUALIFY row_number() OVER (PARTITION BY a.activity_text ORDER BY am.priority NULLS LAST) = 1
), level_lookup AS (
    SELECT l.level_text, lm.programme_level
    FROM (SELECT DISTINCT erasmus_value(education_level) AS level_text FROM _erasmus_rows) l
    LEFT JOIN _erasmus_level_map lm ON lower(l.level_text) LIKE lm.pattern
    QUALIFY row_number() OVER (PARTITION BY l.level_text ORDER BY lm.pattern) = 1
), sides AS (
    SELECT rows.*, 'outgoing' AS direction, sending_school AS school_id,
           receiving_country AS partner_country_text, receiving_organisation AS partner_organisation
    FROM rows WHERE sending_school IS NOT NULL
    UNION ALL
    SELECT rows.*, 'incoming' AS direction, receiving_school AS school_id,
           sending_country AS partner_country_text, sending_organisation AS partner_organisation
    FROM rows WHERE receiving_school IS NOT NULL
), cleaned AS (
    SELECT sides.*,
           erasmus_value(academic_year) AS year_text,
           erasmus_value(start_month) AS start_text,
           erasmus_value(end_month) AS end_text,
           erasmus_value(participants) AS participants_text,
           erasmus_value(activity_mob) AS activity_text,
           erasmus_value(education_level) AS level_text,
           erasmus_value(field_of_education) AS field_text,
           -- months as published ('2019-09'); a few other spellings are read too
           date_trunc('month', try_strptime(erasmus_value(start_month),
                                            ['%Y-%m', '%Y/%m', '%m/%Y', '%m.%Y', '%Y-%m-%d']))::DATE AS start_month_date,
           date_trunc('month', try_strptime(erasmus_value(end_month),
                                            ['%Y-%m', '%Y/%m', '%m/%Y', '%m.%Y', '%Y-%m-%d']))::DATE AS end_month_date,
           regexp_extract(erasmus_value(academic_year), '^(\d{4})\s*[-/_–]\s*(\d{2}|\d{4})$', ['y1', 'y2']) AS y
    FROM sides
), years AS (
    SELECT cleaned.*,
           TRY_CAST(y.y1 AS INTEGER) AS y1,
           CASE length(y.y2) WHEN 4 THEN TRY_CAST(y.y2 AS INTEGER)
                WHEN 2 THEN TRY_CAST(y.y1 AS INTEGER) // 100 * 100 + TRY_CAST(y.y2 AS INTEGER) END AS y2_raw
    FROM cleaned
), level AS (
    SELECT years.*, al.participant_type AS activity_type, al.activity AS mapped_activity,
           ll.programme_level AS mapped_level
    FROM years
    LEFT JOIN activity_lookup al ON al.activity_text = years.activity_text
    LEFT JOIN level_lookup ll ON ll.level_text = years.level_text
), typed AS (
    SELECT level.*,
           coalesce(level.activity_type, pm.participant_type) AS participant_type,  -- the profile if the activity does not say
           CASE WHEN y2_raw + CASE WHEN y2_raw < y1 THEN 100 ELSE 0 END = y1 + 1
                    THEN printf('%d/%02d', y1, (y1 + 1) % 100)
                WHEN year_text IS NULL AND start_month_date IS NOT NULL  -- no year given: 1 September - 31 August
                    THEN printf('%d/%02d', year(start_month_date) - (month(start_month_date) < 9)::INTEGER,
                                (year(start_month_date) - (month(start_month_date) < 9)::INTEGER + 1) % 100)
           END AS canonical_year,
           coalesce(cm.iso, upper(erasmus_value(level.partner_country_text))) AS partner_iso,
           coalesce(scm.iso, upper(erasmus_value(level.sending_country))) AS sending_iso,
           coalesce(rcm.iso, upper(erasmus_value(level.receiving_country))) AS receiving_iso,
           CASE WHEN participants_text IS NULL THEN 1 ELSE TRY_CAST(participants_text AS BIGINT) END AS participants_n,
           coalesce(nullif(regexp_extract(field_text, '^\s*(\d{3,4})\b', 1), ''), fm.isced_f_code) AS isced_f
    FROM level
    LEFT JOIN _erasmus_profile_map pm ON pm.profile = lower(erasmus_value(level.participant_profile))
    LEFT JOIN _erasmus_country_map cm ON cm.published = upper(erasmus_value(level.partner_country_text))
    LEFT JOIN _erasmus_country_map scm ON scm.published = upper(erasmus_value(level.sending_country))
    LEFT JOIN _erasmus_country_map rcm ON rcm.published = upper(erasmus_value(level.receiving_country))
    LEFT JOIN _erasmus_field_map fm ON fm.name = lower(regexp_replace(field_text, '^\s*\d{3,4}\s*-\s*', ''))
), final AS (
    SELECT
        -- lineage and the mobility contract
        source_row, data_row,
        school_id,
        canonical_year AS academic_year,
        coalesce(erasmus_value(project_reference), 'erasmus') || '#L' || source_row AS mobility_ref,
        direction,
        participant_type,
        mapped_activity AS activity,
        'erasmus_plus' AS programme,
        CASE WHEN participant_type = 'student' THEN mapped_level END AS programme_level,
        partner_iso AS partner_country,
        erasmus_value(partner_organisation) AS partner_institution,
        start_month_date AS start_date,                     -- first day of the start month
        last_day(end_month_date) AS end_date,               -- last day of the end month
        participants_n AS participants,
        NULL::DOUBLE AS ects_earned,
        NULL::DOUBLE AS ects_recognised,
        NULL::VARCHAR AS person_ref,
        -- beyond the contract (staging/curated.erasmus_mobility)
        erasmus_value(project_reference) AS project_reference,
        activity_text AS activity_mob,
        field_text AS field_of_education,
        isced_f AS isced_f_code,
        level_text AS education_level,
        erasmus_value(participant_profile) AS participant_profile,
        TRY_CAST(erasmus_value(duration_days) AS INTEGER) AS duration_days,
        upper(erasmus_value(nationality)) AS nationality,
        erasmus_value(gender) AS gender,
        TRY_CAST(erasmus_value(age) AS INTEGER) AS age,
        erasmus_yes_no(special_needs) AS special_needs,
        erasmus_yes_no(fewer_opportunities) AS fewer_opportunities,
        erasmus_yes_no(group_leader) AS group_leader,
        sending_iso AS sending_country,
        erasmus_value(sending_organisation) AS sending_organisation,
        erasmus_value(sending_erasmus_code) AS sending_erasmus_code,
        receiving_iso AS receiving_country,
        erasmus_value(receiving_organisation) AS receiving_organisation,
        erasmus_value(receiving_erasmus_code) AS receiving_erasmus_code,
        -- as received, for the checks' messages and the quarantine
        sending_school, receiving_school,
        year_text, start_text, end_text, participants_text, activity_text AS activity_received,
        erasmus_value(partner_country_text) AS partner_country_received
    FROM typed
)
SELECT * FROM final;
