"""Dataset contracts: the columns schools submit, defined once.

The reader uses them to map headers and type values, validation builds its Great Expectations
suites from them, the warehouse derives its DDL from them and the docs list them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

# Column kinds and the DuckDB type each is stored as.
SQL_TYPES = {
    "slug": "VARCHAR",
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "country": "VARCHAR",
    "year": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "bool": "BOOLEAN",
    "pseudonym": "VARCHAR",
}

# Lineage columns every staged and curated row carries, before the contract's own columns.
LINEAGE = (("submission_id", "VARCHAR"), ("source_row", "BIGINT"))


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    allowed: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()  # other header names a school may use (compared after normalising)
    value_synonyms: dict[str, str] = field(default_factory=dict)  # received value -> allowed value
    default: object = None
    min_value: float | None = None
    max_value: float | None = None  # inclusive upper bound (e.g. the survey scale); None = unbounded
    description: str = ""
    row_id: bool = False  # (nearly) a value per row, such as a record's id: stored uncompressed, see ddl_columns

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Contract:
    name: str
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique within a submission (and curated)
    per_year: bool = True  # False for the registry (no academic_year)
    forms: tuple[tuple[str, ...], ...] = ()  # alternative column sets: a file must carry one of them whole

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


PROGRAMME_LEVELS = ("long_cycle", "bachelor", "master", "doctoral")
LEVEL_SYNONYMS = {
    "long cycle": "long_cycle", "longcycle": "long_cycle", "one_cycle": "long_cycle", "integrated": "long_cycle",
    "ma": "master", "masters": "master", "ba": "bachelor", "bachelors": "bachelor", "phd": "doctoral",
    "doctorate": "doctoral", "doctoral_candidate": "doctoral",
}

SCHOOL = Column("school_id", "slug", True, synonyms=("school", "school id", "institution id", "hochschule"),
                description="The school's id in the registry (a lowercase slug).")
YEAR = Column("academic_year", "year", True, synonyms=("year", "academic year", "akademisches jahr", "anno accademico",
                                                       "annee academique", "study year"),
              description="Academic year, stored as 2023/24 (2023-24, 2023-2024 and 2023/2024 are accepted).")

CONTRACTS: dict[str, Contract] = {
    "schools": Contract(
        "schools", "one school",
        (
            Column("school_id", "slug", True, synonyms=("id", "school", "slug"), description="Registry id (slug)."),
            Column("name", "text", True, synonyms=("school name", "institution", "institution name"),
                   description="The school's name."),
            Column("country_code", "country", True, synonyms=("country",), description="ISO 3166-1 alpha-2."),
            Column("city", "text", synonyms=("town",)),
            Column("erasmus_code", "text", synonyms=("erasmus", "erasmus id", "pic erasmus code"),
                   description="Erasmus institution code, e.g. 'D  BERLIN13' (none outside the programme)."),
            Column("network_role", "enum", True, ("partner", "advisory", "member"), synonyms=("role",),
                   value_synonyms={"adviser": "advisory", "advisor": "advisory", "ims partner": "partner"}),
            Column("consent_to_be_named", "bool", synonyms=("consent", "named", "consent to be named"), default=False,
                   description="If false the school appears to other schools only as 'peer'."),
        ),
        key=("school_id",),
        per_year=False,
    ),
    "enrolment": Contract(
        "enrolment", "school × year × programme_level",
        (
            SCHOOL, YEAR,
            Column("programme_level", "enum", True, PROGRAMME_LEVELS, synonyms=("level", "cycle", "study level"),
                   value_synonyms=LEVEL_SYNONYMS),
            Column("students_total", "int", True, synonyms=("students", "enrolled", "total students", "headcount"),
                   min_value=0),
            Column("students_international", "int", True,
                   synonyms=("international students", "intl students", "foreign students",
                             "degree seeking international"), min_value=0,
                   description="Degree-seeking students with prior education abroad."),
            Column("first_year_intake", "int", synonyms=("intake", "first year", "new entrants"), min_value=0),
            Column("graduates", "int", True, synonyms=("graduated", "degrees awarded", "absolventen"), min_value=0),
            Column("ects_total", "float", synonyms=("ects", "total ects", "credits taught"), min_value=0),
            Column("ects_taught_in_english", "float", synonyms=("ects english", "english ects", "ects in english"),
                   min_value=0),
        ),
        key=("school_id", "academic_year", "programme_level"),
    ),
    "mobility": Contract(
        "mobility", "one mobility, or a group of identical ones",
        (
            SCHOOL, YEAR,
            Column("mobility_ref", "text", synonyms=("id", "mobility id", "ref", "reference", "record id"),
                   description="The school's own id of the mobility (unique within a school and year).", row_id=True),
            Column("direction", "enum", True, ("outgoing", "incoming"), synonyms=("dir", "flow"),
                   value_synonyms={"out": "outgoing", "outbound": "outgoing", "ausgehend": "outgoing",
                                   "in": "incoming", "inbound": "incoming", "eingehend": "incoming"}),
            Column("participant_type", "enum", True, ("student", "staff"), synonyms=("participant", "type", "who"),
                   value_synonyms={"students": "student", "studierende": "student", "academic staff": "staff",
                                   "teacher": "staff", "personal": "staff"}),
            Column("activity", "enum", True,
                   ("study", "clinical_placement", "traineeship", "teaching", "training", "research"),
                   synonyms=("activity type", "mobility type"),
                   value_synonyms={"studies": "study", "study period": "study", "clerkship": "clinical_placement",
                                   "clinical rotation": "clinical_placement", "placement": "clinical_placement",
                                   "internship": "traineeship", "teaching assignment": "teaching",
                                   "staff training": "training"}),
            Column("programme", "enum", True, ("erasmus_plus", "bilateral", "network", "free_mover", "other"),
                   synonyms=("programme name", "program", "scheme"),
                   value_synonyms={"erasmus+": "erasmus_plus", "erasmus": "erasmus_plus",
                                   "erasmus plus": "erasmus_plus", "freemover": "free_mover",
                                   "free mover": "free_mover", "ims network": "network"}),
            Column("programme_level", "enum", False, PROGRAMME_LEVELS, synonyms=("level", "study level", "cycle"),
                   value_synonyms=LEVEL_SYNONYMS, description="Students only; empty for staff."),
            Column("partner_country", "country", True, synonyms=("country", "partner country code", "host country",
                                                                 "destination country"),
                   description="ISO 3166-1 alpha-2 of the partner (UK and EL are read as GB and GR)."),
            Column("partner_institution", "text", synonyms=("partner", "host institution", "partner university")),
            Column("start_date", "date", True, synonyms=("start", "from", "begin", "beginn", "date from")),
            Column("end_date", "date", True, synonyms=("end", "to", "until", "ende", "date to")),
            Column("participants", "int", True, synonyms=("n", "count", "number", "persons", "number of participants"),
                   default=1, min_value=1),
            Column("ects_earned", "float", synonyms=("ects", "credits earned", "ects credits"), min_value=0),
            Column("ects_recognised", "float", synonyms=("ects recognized", "credits recognised",
                                                         "credits recognized", "recognised ects"), min_value=0),
            Column("person_ref", "pseudonym", synonyms=("person", "student id", "staff id", "matriculation number",
                                                        "person id"),
                   description="Pseudonymised at ingest with a keyed HMAC; never stored as sent.", row_id=True),
        ),
        key=("school_id", "academic_year", "mobility_ref"),
    ),
    "staffing": Contract(
        "staffing", "school × year × staff_category",
        (
            SCHOOL, YEAR,
            Column("staff_category", "enum", True,
                   ("professor", "associate_professor", "lecturer", "researcher", "clinical_teacher",
                    "teaching_assistant"), synonyms=("category", "staff group", "position"),
                   value_synonyms={"full professor": "professor", "professors": "professor",
                                   "assoc prof": "associate_professor", "associate prof": "associate_professor",
                                   "lecturers": "lecturer", "researchers": "researcher", "ta": "teaching_assistant",
                                   "clinical teachers": "clinical_teacher"}),
            Column("headcount", "int", True, synonyms=("staff", "persons", "number"), min_value=0),
            Column("fte", "float", True, synonyms=("full time equivalent", "vze", "etp"), min_value=0),
            Column("foreign_nationality", "int", True, synonyms=("foreign", "international staff", "non national"),
                   min_value=0),
            Column("international_experience", "int", synonyms=("intl experience", "experience abroad"), min_value=0),
            Column("intl_training_completed", "int", synonyms=("trained", "internationalisation training",
                                                               "intl training"), min_value=0),
            Column("teaching_in_english", "int", synonyms=("english teaching", "teaching english"), min_value=0),
        ),
        key=("school_id", "academic_year", "staff_category"),
    ),
    "accreditation": Contract(
        "accreditation", "one accreditation decision",
        (
            SCHOOL, YEAR,
            Column("programme_name", "text", True, synonyms=("programme", "program", "study programme")),
            Column("scope", "enum", True, ("institutional", "programme"), synonyms=("level", "type"),
                   value_synonyms={"institution": "institutional", "program": "programme"}),
            Column("agency_name", "text", True, synonyms=("agency", "accreditation agency")),
            Column("agency_country", "country", True, synonyms=("agency country code",)),
            Column("agency_wfme_recognised", "bool", True, synonyms=("wfme", "wfme recognised", "wfme recognized",
                                                                     "agency wfme recognized")),
            Column("decision", "enum", True, ("accredited", "accredited_with_conditions", "not_accredited", "pending"),
                   synonyms=("result", "outcome"),
                   value_synonyms={"accredited with conditions": "accredited_with_conditions",
                                   "conditional": "accredited_with_conditions", "refused": "not_accredited",
                                   "denied": "not_accredited", "in progress": "pending"}),
            Column("decision_date", "date", True, synonyms=("date", "decision date", "date of decision")),
            Column("valid_until", "date", synonyms=("valid to", "expiry", "expires")),
            Column("open_conditions", "int", synonyms=("conditions", "open conditions"), min_value=0, default=0),
        ),
        key=("school_id", "academic_year", "programme_name", "agency_name", "decision_date"),
    ),
}

SURVEY_ITEMS = {
    "overall_study_situation": "Overall study situation",
    "teaching": "Teaching (courses, lectures, seminars)",
    "clinical_training": "Clinical training and bedside teaching",
    "support_going_abroad": "Support for going abroad",
    "credit_recognition": "Recognition of credits earned abroad",
    "international_orientation": "International orientation of the programme",
    "exam_organisation": "Exam organisation",
}
SURVEY_SCALE = (1, 6)  # 1 = very good … 6 = very poor (German school grades, as in the CHE student survey)

CONTRACTS["student_survey"] = Contract(
    "student_survey", "one respondent × item, or one school × year × item aggregated",
    (
        SCHOOL, YEAR,
        Column("item", "enum", True, tuple(SURVEY_ITEMS), synonyms=("question", "item id", "indicator"),
               value_synonyms={normalise_label: key for key, label in SURVEY_ITEMS.items()
                               for normalise_label in (label.lower(),)}),
        Column("respondent_ref", "pseudonym", synonyms=("respondent", "respondent id", "student id"),
               description="Pseudonymised at ingest like person_ref."),
        Column("score", "int", synonyms=("answer", "rating", "grade", "judgement"), min_value=SURVEY_SCALE[0],
               max_value=SURVEY_SCALE[1], description="1 = very good … 6 = very poor."),
        Column("comment", "text", synonyms=("free text", "remarks", "comments"),
               description="Free text: stored, never shown for fewer responses than the suppression threshold."),
        Column("responses", "int", synonyms=("n", "n responses", "number of responses"), min_value=1,
               description="Answers behind mean and sd (an item nobody answered is left out)."),
        Column("mean", "float", synonyms=("mean score", "average", "mittelwert"), min_value=SURVEY_SCALE[0],
               max_value=SURVEY_SCALE[1]),
        Column("sd", "float", synonyms=("std", "standard deviation", "stdev"), min_value=0),
        Column("year_of_study", "int", synonyms=("study year", "year of study", "semester year", "studienjahr"),
               min_value=1, max_value=8,
               description="The respondent's year of study; year 1 (enrolled under a year) does not count."),
        Column("students_invited", "int", synonyms=("invited", "students invited", "number invited", "sample size"),
               min_value=1, description="Students invited to the survey (the same on every row of the file); "
                                        "below 50 answers the response rate must reach 10 %."),
    ),
    key=("school_id", "academic_year", "respondent_ref", "item"),
    forms=(("respondent_ref", "score"), ("responses", "mean", "sd")),
)

# The items of catalogue/self_assessment.yaml (tests/score/test_self_assessment.py keeps the two in step).
SELF_ASSESSMENT_ITEMS = (
    "sa_org_international_structure", "sa_fin_internationalisation_budget", "sa_staff_recruitment",
    "sa_staff_international_promotion", "sa_acad_international_intake", "sa_acad_recognition",
    "sa_acad_english_teaching", "sa_acc_strategy_targets", "sa_acc_public_report", "sa_acc_quality_cycle",
    "sa_comments",
)

CONTRACTS["self_assessment"] = Contract(
    "self_assessment", "school × cycle (academic year) × item",
    (
        SCHOOL, YEAR,
        Column("item_id", "enum", True, SELF_ASSESSMENT_ITEMS, synonyms=("item", "question id", "question"),
               description="Item id from catalogue/self_assessment.yaml."),
        Column("answer", "text", True, synonyms=("response", "value", "antwort", "réponse"),
               description="As the item's answer type asks: yes/no; a share 0..1 (or a percentage); "
                           "a level 1..4; free text."),
        Column("evidence", "text", synonyms=("evidence link", "link", "source", "nachweis"),
               description="A link to, or the text of, the document that supports the answer."),
    ),
    key=("school_id", "academic_year", "item_id"),
)

# The panel's standards (models/label_v1.yaml `panel.standards` defines them; a test keeps the two in step).
PANEL_STANDARDS = ("quality_assurance", "staff", "autonomy_accountability", "student_mobility", "teaching_learning")
PANEL_RATINGS = ("unsatisfactory", "partially", "satisfactory", "excellent")

CONTRACTS["panel_assessment"] = Contract(
    "panel_assessment", "school × cycle (academic year) × standard",
    (
        SCHOOL, YEAR,
        Column("standard", "enum", True, PANEL_STANDARDS, synonyms=("standard id", "criterion"),
               description="Standard of the label model's panel section (one per label dimension)."),
        Column("rating", "enum", True, PANEL_RATINGS, synonyms=("judgement", "assessment", "score"),
               value_synonyms={"partially satisfactory": "partially", "partial": "partially",
                               "insufficient": "unsatisfactory"},
               description="The panel's judgement on the four-point scale (worst first)."),
        Column("panel_size", "int", True, synonyms=("panel members", "experts"), min_value=1,
               description="Number of panel members who rated (people)."),
        Column("date", "date", True, synonyms=("visit date", "site visit", "rating date"),
               description="Date of the panel's judgement (after the site visit)."),
        Column("rationale", "text", True, synonyms=("reason", "findings", "considerations"),
               description="The panel's findings and considerations behind the rating."),
    ),
    key=("school_id", "academic_year", "standard"),
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
YEAR_SLUG = re.compile(r"^(\d{4})-(\d{2})$")


def contract(dataset: str) -> Contract:
    """The contract for a dataset name; a clear error for an unknown one."""
    try:
        return CONTRACTS[dataset]
    except KeyError:
        raise KeyError(f"unknown dataset {dataset!r}: expected one of {', '.join(CONTRACTS)}") from None


def normalise_header(text: object) -> str:
    """'  Start Date ' -> 'start date' (case, spaces, underscores, dashes and BOMs folded)."""
    s = str(text or "").replace("\ufeff", "").strip().lower()
    s = re.sub(r"[\s_\-./]+", " ", s)
    return s.strip()


@cache
def header_map(dataset: str) -> dict[str, str]:
    """Normalised header -> contract column (the column's own name and its synonyms)."""
    out: dict[str, str] = {}
    for col in contract(dataset).columns:
        for name in (col.name, *col.synonyms):
            out.setdefault(normalise_header(name), col.name)
    return out


def ddl_columns(dataset: str) -> list[tuple[str, str]]:
    """(name, DuckDB column definition) of a staged/curated table: lineage first, then the contract's columns.

    A column of (nearly) one value per row (``Column.row_id``: a record's id, a person's pseudonym) is stored
    uncompressed: DuckDB's string compression gains little on such values, and trying it made writing the column
    four times slower (0.26 s against 0.07 s per million rows)."""
    def definition(c: Column) -> str:
        return f"{c.sql_type} USING COMPRESSION uncompressed" if c.row_id else c.sql_type

    return [*LINEAGE, *((c.name, definition(c)) for c in contract(dataset).columns)]


def year_slug(year: str) -> str:
    """'2023/24' -> '2023-24' (folder and partition names)."""
    return year.replace("/", "-")


def year_from_slug(slug: str) -> str:
    return slug.replace("-", "/")


def canonical_year(text: object) -> str | None:
    """'2023-24', '2023-2024', '2023/2024', '2023_24' or '2023/24' -> '2023/24'; None if not a year."""
    m = re.fullmatch(r"\s*(\d{4})\s*[-/_–]\s*(\d{2}|\d{4})\s*", str(text or ""))
    if not m:
        return None
    first, second = int(m.group(1)), m.group(2)
    end = int(second) if len(second) == 4 else (first // 100) * 100 + int(second)
    if len(second) == 2 and end < first:
        end += 100
    if end != first + 1:
        return None
    return f"{first}/{str(end)[-2:]}"
