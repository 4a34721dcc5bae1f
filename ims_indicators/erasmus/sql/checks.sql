-- What only the open data can get wrong, found while reading it (stage 'read'): a value that is there but not of
-- its type, a published value with no counterpart in the contract, a school as its own partner. These rows are
-- quarantined and not staged, like a school file's unreadable rows. Every row rule of the contract comes from
-- the mobility suite (expectations/mobility.json) compiled to SQL (validate/compile.py), never from here.
CREATE OR REPLACE TEMP TABLE _erasmus_violations AS
WITH m AS (
    SELECT * FROM erasmus_work._erasmus_mapped WHERE academic_year IS NOT NULL
), checks AS (
    SELECT source_row, direction, school_id, academic_year, 'read' AS stage, 'read.type_month' AS rule,
           'start_date' AS column_name,
           printf('Mobility Start Month ''%s'' is not a month such as 2019-09', start_text) AS reason
    FROM m WHERE start_text IS NOT NULL AND start_date IS NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'read', 'read.type_month', 'end_date',
           printf('Mobility End Month ''%s'' is not a month such as 2020-02', end_text)
    FROM m WHERE end_text IS NOT NULL AND end_date IS NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'read', 'read.type_int', 'participants',
           printf('Participants ''%s'' is not a whole number', participants_text)
    FROM m WHERE participants_text IS NOT NULL AND participants IS NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'read', 'read.erasmus_mapping', 'activity',
           printf('Activity (mob) ''%s'' has no counterpart in the mobility contract '
                  '(ims_indicators/erasmus/sql/mapping.sql)', activity_mob)
    FROM m WHERE activity IS NULL AND activity_mob IS NOT NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'read', 'erasmus.same_organisation', 'partner_institution',
           printf('the sending and the receiving organisation are both %s (Erasmus code %s)', school_id,
                  sending_erasmus_code)
    FROM m WHERE sending_school = receiving_school
)
SELECT * FROM checks ORDER BY school_id, academic_year, source_row, rule;
