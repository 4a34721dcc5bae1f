-- Open-data rows of registry schools -> rows of the mobility contract, plus what the open data says beyond it.
-- A row whose sending organisation is a registry school is 'outgoing' for that school, one whose receiving
-- organisation is, 'incoming' (a row between two registry schools gives one row to each). The partner is the
-- other side. Mapping tables: mapping.sql. Reads _erasmus_rows (scan.sql), writes _erasmus_mapped
-- (both in the work database erasmus_work: load.py, attach_work).
-- Text is cleaned once per row ('-', 'Undefined', '? Unknown ?' -> NULL); what needs a regex or a LIKE is
-- worked out once per distinct published value (a few dozen, cleaned after DISTINCT, read from _erasmus_rows so
-- that 'rows' and 'cleaned' have a single consumer and are never materialised) and joined back.
CREATE OR REPLACE TABLE erasmus_work._erasmus_mapped AS
WITH rows AS NOT MATERIALIZED (
    SELECT * REPLACE (
        erasmus_trim(project_reference) AS project_reference, erasmus_trim(academic_year) AS academic_year,
        erasmus_trim(start_month) AS start_month, erasmus_trim(end_month) AS end_month,
        erasmus_trim(duration_days) AS duration_days, erasmus_trim(activity_mob) AS activity_mob,
        erasmus_trim(field_of_education) AS field_of_education, erasmus_trim(nationality) AS nationality,
        erasmus_trim(education_level) AS education_level, erasmus_trim(gender) AS gender,
        erasmus_trim(participant_profile) AS participant_profile, erasmus_trim(special_needs) AS special_needs,
        erasmus_trim(fewer_opportunities) AS fewer_opportunities, erasmus_trim(group_leader) AS group_leader,
        erasmus_trim(age) AS age, erasmus_trim(sending_country) AS sending_country,
        erasmus_trim(sending_city) AS sending_city, erasmus_trim(sending_organisation) AS sending_organisation,
        erasmus_trim(sending_erasmus_code) AS sending_erasmus_code,
        erasmus_trim(receiving_country) AS receiving_country, erasmus_trim(receiving_city) AS receiving_city,
        erasmus_trim(receiving_organisation) AS receiving_organisation,
        erasmus_trim(receiving_erasmus_code) AS receiving_erasmus_code, erasmus_trim(participants) AS participants)
    FROM erasmus_work._erasmus_rows
), sides AS (  -- a row once per registry school on it, in one scan of the rows (two scans read them twice)
    SELECT * FROM (
        SELECT rows.*, unnest([
            {'direction': 'outgoing', 'school_id': sending_school,
             'partner_country_sent': receiving_country, 'partner_organisation': receiving_organisation},
            {'direction': 'incoming', 'school_id': receiving_school,
             'partner_country_sent': sending_country, 'partner_organisation': sending_organisation}],
            recursive := true)
        FROM rows)
    WHERE school_id IS NOT NULL
), cleaned AS (
    SELECT source_row, direction, school_id, sending_school, receiving_school,
           erasmus_value(project_reference) AS project_reference,
           erasmus_value(academic_year) AS year_text,
           erasmus_value(start_month) AS start_text,
           erasmus_value(end_month) AS end_text,
           erasmus_value(duration_days) AS duration_text,
           erasmus_value(activity_mob) AS activity_text,
           erasmus_value(field_of_education) AS field_text,
           upper(erasmus_value(nationality)) AS nationality,
           erasmus_value(education_level) AS level_text,
           erasmus_value(gender) AS gender,
           erasmus_value(participant_profile) AS participant_profile,
           erasmus_yes_no(special_needs) AS special_needs,
           erasmus_yes_no(fewer_opportunities) AS fewer_opportunities,
           erasmus_yes_no(group_leader) AS group_leader,
           erasmus_value(age) AS age_text,
           upper(erasmus_value(sending_country)) AS sending_country_text,
           erasmus_value(sending_organisation) AS sending_organisation,
           erasmus_value(sending_erasmus_code) AS sending_erasmus_code,
           upper(erasmus_value(receiving_country)) AS receiving_country_text,
           erasmus_value(receiving_organisation) AS receiving_organisation,
           erasmus_value(receiving_erasmus_code) AS receiving_erasmus_code,
           erasmus_value(participants) AS participants_text,
           upper(erasmus_value(partner_country_sent)) AS partner_country_text,
           erasmus_value(partner_organisation) AS partner_institution
    FROM sides
), activity_lookup AS (  -- 'Activity (mob)' -> participant_type, activity: lowest priority that matches
    SELECT a.activity_text, am.participant_type, am.activity
    FROM (SELECT DISTINCT erasmus_clean(activity_mob) AS activity_text
          FROM (SELECT DISTINCT activity_mob FROM erasmus_work._erasmus_rows)) a
    LEFT JOIN _erasmus_activity_map am ON lower(a.activity_text) LIKE am.pattern
    QUALIFY row_number() OVER (PARTITION BY a.activity_text ORDER BY am.priority NULLS LAST) = 1
), level_lookup AS (  -- 'Education Level' -> programme_level
    SELECT l.level_text, lm.programme_level
    FROM (SELECT DISTINCT erasmus_clean(education_level) AS level_text
          FROM (SELECT DISTINCT education_level FROM erasmus_work._erasmus_rows)) l
    LEFT JOIN _erasmus_level_map lm ON lower(l.level_text) LIKE lm.pattern
    QUALIFY row_number() OVER (PARTITION BY l.level_text ORDER BY lm.pattern) = 1
), field_lookup AS (  -- 'Field of Education' -> ISCED-F code: its leading digits, or a health field's name
    SELECT f.field_text,
           coalesce(nullif(regexp_extract(f.field_text, '^\s*(\d{3,4})\b', 1), ''), fm.isced_f_code) AS isced_f_code
    FROM (SELECT DISTINCT erasmus_clean(field_of_education) AS field_text
          FROM (SELECT DISTINCT field_of_education FROM erasmus_work._erasmus_rows)) f
    LEFT JOIN _erasmus_field_map fm ON fm.name = lower(regexp_replace(f.field_text, '^\s*\d{3,4}\s*-\s*', ''))
), year_lookup AS (  -- 'Academic Year' as 2019-2020, 2019-20 or 2019/2020 -> 2019/20
    SELECT year_text,
           CASE WHEN y2 + CASE WHEN y2 < y1 THEN 100 ELSE 0 END = y1 + 1
                THEN printf('%d/%02d', y1, (y1 + 1) % 100) END AS academic_year
    FROM (SELECT year_text, TRY_CAST(y.y1 AS INTEGER) AS y1,
                 CASE length(y.y2) WHEN 4 THEN TRY_CAST(y.y2 AS INTEGER)
                      WHEN 2 THEN TRY_CAST(y.y1 AS INTEGER) // 100 * 100 + TRY_CAST(y.y2 AS INTEGER) END AS y2
          FROM (SELECT year_text, regexp_extract(year_text, '^(\d{4})\s*[-/_–]\s*(\d{2}|\d{4})$', ['y1', 'y2']) AS y
                FROM (SELECT DISTINCT erasmus_clean(academic_year) AS year_text
                      FROM (SELECT DISTINCT academic_year FROM erasmus_work._erasmus_rows) WHERE year_text IS NOT NULL)))
), month_lookup AS (  -- months as published ('2019-09'); a few other spellings are read too
    SELECT month_text,
           date_trunc('month', try_strptime(month_text, ['%Y-%m', '%Y/%m', '%m/%Y', '%m.%Y', '%Y-%m-%d']))::DATE
               AS first_day
    FROM (SELECT erasmus_clean(start_month) AS month_text FROM (SELECT DISTINCT start_month FROM erasmus_work._erasmus_rows)
          UNION SELECT erasmus_clean(end_month) FROM (SELECT DISTINCT end_month FROM erasmus_work._erasmus_rows))
    WHERE month_text IS NOT NULL
), typed AS (
    SELECT c.*,
           al.participant_type AS activity_type, al.activity AS mapped_activity,
           ll.programme_level AS mapped_level,
           pm.participant_type AS profile_type,
           fl.isced_f_code,
           sm.first_day AS start_first_day,
           em.first_day AS end_first_day,
           -- The school's academic year (1 September - 31 August), not the EC's (call) year, where they differ:
           -- * a mobility starting in July or August belongs to the year its dates say: the year that ends that
           --   August if it is over by then, else the year beginning that September (early starts, language
           --   courses); the EC year of such rows is often the call year (issue 17 item 7);
           -- * any other mobility: the EC year as published; without one, the year its start month falls in.
           -- The EC year is kept as ec_academic_year.
           CASE WHEN month(sm.first_day) IN (7, 8)
                THEN printf('%d/%02d', year(sm.first_day) - (coalesce(em.first_day, sm.first_day) < make_date(year(sm.first_day), 9, 1))::INTEGER,
                            (year(sm.first_day) + 1 - (coalesce(em.first_day, sm.first_day) < make_date(year(sm.first_day), 9, 1))::INTEGER) % 100)
                ELSE coalesce(yl.academic_year,
                    CASE WHEN c.year_text IS NULL AND sm.first_day IS NOT NULL
                         THEN printf('%d/%02d', year(sm.first_day) - (month(sm.first_day) < 9)::INTEGER,
                                     (year(sm.first_day) - (month(sm.first_day) < 9)::INTEGER + 1) % 100) END) END
               AS canonical_year,
           coalesce(cm.iso, c.partner_country_text) AS partner_iso,
           coalesce(scm.iso, c.sending_country_text) AS sending_iso,
           coalesce(rcm.iso, c.receiving_country_text) AS receiving_iso
    FROM cleaned c
    LEFT JOIN activity_lookup al ON al.activity_text = c.activity_text
    LEFT JOIN level_lookup ll ON ll.level_text = c.level_text
    LEFT JOIN field_lookup fl ON fl.field_text = c.field_text
    LEFT JOIN year_lookup yl ON yl.year_text = c.year_text
    LEFT JOIN month_lookup sm ON sm.month_text = c.start_text
    LEFT JOIN month_lookup em ON em.month_text = c.end_text
    LEFT JOIN _erasmus_profile_map pm ON pm.profile = lower(c.participant_profile)
    LEFT JOIN _erasmus_country_map cm ON cm.published = c.partner_country_text
    LEFT JOIN _erasmus_country_map scm ON scm.published = c.sending_country_text
    LEFT JOIN _erasmus_country_map rcm ON rcm.published = c.receiving_country_text
), final AS (
    SELECT
        -- lineage and the mobility contract
        source_row,
        school_id,
        canonical_year AS academic_year,
        -- mobility_ref is made as the rows are staged (macros.sql: erasmus_mobility_ref): 3.3 M distinct strings
        -- at 10 M rows cost a second of this statement to store and compress
        direction,
        coalesce(activity_type, profile_type) AS participant_type,  -- the profile when the activity does not say
        mapped_activity AS activity,
        'erasmus_plus' AS programme,
        CASE WHEN coalesce(activity_type, profile_type) = 'student' THEN mapped_level END AS programme_level,
        partner_iso AS partner_country,
        partner_institution,
        start_first_day AS start_date,                      -- first day of the start month
        last_day(end_first_day) AS end_date,                -- last day of the end month
        CASE WHEN participants_text IS NULL THEN 1 ELSE TRY_CAST(participants_text AS BIGINT) END AS participants,
        NULL::DOUBLE AS ects_earned,
        NULL::DOUBLE AS ects_recognised,
        NULL::VARCHAR AS person_ref,
        -- beyond the contract (staging/curated.erasmus_mobility)
        project_reference,
        activity_text AS activity_mob,
        field_text AS field_of_education,
        isced_f_code,
        level_text AS education_level,
        participant_profile,
        TRY_CAST(duration_text AS INTEGER) AS duration_days,
        nationality,
        gender,
        TRY_CAST(age_text AS INTEGER) AS age,
        special_needs,
        fewer_opportunities,
        group_leader,
        sending_iso AS sending_country,
        sending_organisation,
        sending_erasmus_code,
        receiving_iso AS receiving_country,
        receiving_organisation,
        receiving_erasmus_code,
        year_text AS ec_academic_year,
        -- as received, for the checks' messages (the year and the activity as received are ec_academic_year
        -- and activity_mob above: at 10 M rows a second copy of a text column is 3.3 M more strings held)
        sending_school, receiving_school, start_text, end_text, participants_text
    FROM typed
)
SELECT * FROM final;
