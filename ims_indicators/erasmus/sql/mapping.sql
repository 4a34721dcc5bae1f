-- How the Erasmus+ open data maps onto the mobility contract: the tables a reviewer reads and edits.
-- (Temporary tables, created for each load; a change here changes the registry fingerprint, so the
-- next `ims erasmus` of an already loaded file maps it again.)

-- 'Activity (mob)' -> participant_type, activity. Patterns are matched on the lower-cased text with LIKE;
-- the lowest priority number that matches wins. An activity that matches nothing (youth exchanges,
-- accompanying persons, …) has no counterpart in the contract: its rows are quarantined and say so.
CREATE OR REPLACE TEMP TABLE _erasmus_activity_map (priority INTEGER, pattern VARCHAR, participant_type VARCHAR,
                                                   activity VARCHAR, note VARCHAR);
INSERT INTO _erasmus_activity_map VALUES
    (10, 'student mobility for studies%',     'student', 'study',       'KA103/KA107 student mobility for studies (SMS)'),
    (11, 'student mobility for traineeship%', 'student', 'traineeship', 'SMP; clinical placements abroad are published as traineeships and cannot be told apart'),
    (12, 'student%traineeship%',              'student', 'traineeship', 'older spellings'),
    (13, 'student%stud%',                     'student', 'study',       'older spellings'),
    (14, 'learner%traineeship%',              'student', 'traineeship', 'VET-style wording used by some files'),
    (20, 'staff mobility for teaching%',      'staff',   'teaching',    'STA'),
    (21, 'staff mobility for training%',      'staff',   'training',    'STT'),
    (22, 'staff%teaching%',                   'staff',   'teaching',    'older spellings'),
    (23, 'staff%training%',                   'staff',   'training',    'older spellings'),
    (30, 'short-term doctoral%',              'student', 'study',       'doctoral candidates on short mobility'),
    (90, 'accompanying person%',              NULL,      NULL,          'not a mobility of the school''s students or staff: quarantined');

-- 'Education Level' -> programme_level (students only; staff rows have none). ISCED-7 is 'master': the open
-- data does not tell a long-cycle (integrated) medical programme from a master.
CREATE OR REPLACE TEMP TABLE _erasmus_level_map (pattern VARCHAR, programme_level VARCHAR, note VARCHAR);
INSERT INTO _erasmus_level_map VALUES
    ('isced-5%', 'bachelor', 'short cycle within the first cycle'),
    ('isced-6%', 'bachelor', 'first cycle'),
    ('isced-7%', 'master',   'second cycle (incl. long-cycle medicine)'),
    ('isced-8%', 'doctoral', 'third cycle'),
    ('%first cycle%',  'bachelor', 'text without the ISCED prefix'),
    ('%second cycle%', 'master',   'text without the ISCED prefix'),
    ('%third cycle%',  'doctoral', 'text without the ISCED prefix');

-- 'Participant Profile' -> participant_type when 'Activity (mob)' does not say it.
CREATE OR REPLACE TEMP TABLE _erasmus_profile_map (profile VARCHAR, participant_type VARCHAR);
INSERT INTO _erasmus_profile_map VALUES ('learner', 'student'), ('student', 'student'), ('staff', 'staff');

-- Country codes as the EU writes them -> ISO 3166-1 alpha-2 (XK, Kosovo, stays XK).
CREATE OR REPLACE TEMP TABLE _erasmus_country_map (published VARCHAR, iso VARCHAR);
INSERT INTO _erasmus_country_map VALUES ('EL', 'GR'), ('UK', 'GB');

-- 'Field of Education' written without its ISCED-F code: names of the health fields -> code.
CREATE OR REPLACE TEMP TABLE _erasmus_field_map (name VARCHAR, isced_f_code VARCHAR);
INSERT INTO _erasmus_field_map VALUES
    ('health, not further defined', '0910'), ('health', '0910'), ('dental studies', '0911'),
    ('medicine', '0912'), ('nursing and midwifery', '0913'), ('medical diagnostic and treatment technology', '0914'),
    ('therapy and rehabilitation', '0915'), ('pharmacy', '0916'),
    ('traditional and complementary medicine and therapy', '0917'), ('health, inter-disciplinary', '0918'),
    ('health and welfare, not further defined', '0900');
