-- The mobility expectations as SQL over the mapped open-data rows (the same rules, rule names and sentences
-- as the Great Expectations suite of school files), plus what only the open data can get wrong.
-- One row per failing row × rule; a failing row is held back (meta.quarantine), the others are curated.
-- Bound: $participant_types, $activities, $programmes, $levels, $directions (from the contract), $countries.
CREATE OR REPLACE TEMP TABLE _erasmus_violations AS
WITH m AS (
    SELECT * FROM _erasmus_mapped WHERE academic_year IS NOT NULL
), checks AS (
    -- read stage: a value is there but is not of its type
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
    -- validate stage: required values
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_not_be_null',
           'activity',
           CASE WHEN activity_received IS NULL THEN 'activity is empty; it is required (Activity (mob) is missing)'
                ELSE printf('activity is empty; it is required: Activity (mob) ''%s'' has no counterpart in the '
                            'mobility contract (ims_indicators/erasmus/sql/mapping.sql)', activity_received) END
    FROM m WHERE activity IS NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_not_be_null',
           'participant_type', 'participant_type is empty; it is required (neither Activity (mob) nor '
                               'Participant Profile says student or staff)'
    FROM m WHERE participant_type IS NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_not_be_null',
           'partner_country',
           printf('partner_country is empty; it is required (the %s country code is missing)',
                  CASE direction WHEN 'outgoing' THEN 'Receiving' ELSE 'Sending' END)
    FROM m WHERE partner_country IS NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_not_be_null',
           'start_date', 'start_date is empty; it is required (Mobility Start Month is missing)'
    FROM m WHERE start_text IS NULL
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_not_be_null',
           'end_date', 'end_date is empty; it is required (Mobility End Month is missing)'
    FROM m WHERE end_text IS NULL
    -- allowed values
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_be_in_set',
           'participant_type', printf('participant_type ''%s'' is not one of %s', participant_type,
                                      array_to_string($participant_types, ', '))
    FROM m WHERE participant_type IS NOT NULL AND NOT list_contains($participant_types, participant_type)
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_be_in_set',
           'activity', printf('activity ''%s'' is not one of %s', activity, array_to_string($activities, ', '))
    FROM m WHERE activity IS NOT NULL AND NOT list_contains($activities, activity)
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_be_in_set',
           'programme_level', printf('programme_level ''%s'' is not one of %s', programme_level,
                                     array_to_string($levels, ', '))
    FROM m WHERE programme_level IS NOT NULL AND NOT list_contains($levels, programme_level)
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_be_in_set',
           'programme', printf('programme ''%s'' is not one of %s', programme, array_to_string($programmes, ', '))
    FROM m WHERE NOT list_contains($programmes, programme)
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_be_in_set',
           'direction', printf('direction ''%s'' is not one of %s', direction, array_to_string($directions, ', '))
    FROM m WHERE NOT list_contains($directions, direction)
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_be_in_set',
           'partner_country',
           printf('partner_country ''%s'' is not an ISO 3166-1 alpha-2 country code', partner_country_received)
    FROM m WHERE partner_country IS NOT NULL AND NOT list_contains($countries, partner_country)
    -- ranges and order
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'expect_column_values_to_be_between',
           'participants', printf('participants %d is below the minimum 1', participants)
    FROM m WHERE participants < 1
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate',
           'expect_column_pair_values_a_to_be_greater_than_b', 'end_date',
           printf('end_date %s is before start_date %s', end_date, start_date)
    FROM m WHERE end_date < start_date
    UNION ALL  -- the mobility must overlap its academic year (1 September - 31 August)
    SELECT source_row, direction, school_id, academic_year, 'validate',
           'expect_column_pair_values_a_to_be_greater_than_b', 'end_date',
           printf('the mobility ends on %s, before the academic year %s begins (%s)', end_date, academic_year,
                  make_date(left(academic_year, 4)::INTEGER, 9, 1))
    FROM m WHERE end_date < make_date(left(academic_year, 4)::INTEGER, 9, 1)
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate',
           'expect_column_pair_values_a_to_be_greater_than_b', 'start_date',
           printf('the mobility starts on %s, after the academic year %s ends (%s)', start_date, academic_year,
                  make_date(left(academic_year, 4)::INTEGER + 1, 8, 31))
    FROM m WHERE start_date > make_date(left(academic_year, 4)::INTEGER + 1, 8, 31)
    -- only the open data: a school cannot be its own partner
    UNION ALL
    SELECT source_row, direction, school_id, academic_year, 'validate', 'erasmus.same_organisation', 'partner_institution',
           printf('the sending and the receiving organisation are both %s (Erasmus code %s)', school_id,
                  sending_erasmus_code)
    FROM m WHERE sending_school = receiving_school
)
SELECT * FROM checks ORDER BY school_id, academic_year, source_row, rule;
