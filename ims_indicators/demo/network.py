"""The demo network: its schools, their house styles and the plausible magnitudes the figures follow.

Everything here is fixed data (no randomness): who the schools are, how big they are, how
international their staff is, which agency accredits them and how each one writes its files.
The generator adds seeded noise around these magnitudes. All demo figures are synthetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

YEARS: tuple[str, ...] = ("2019/20", "2020/21", "2021/22", "2022/23", "2023/24")

# Mobility relative to 2019/20: the pandemic year 2020/21 lost about 70 %, then the recovery.
MOBILITY_FACTOR: dict[str, float] = {"2019/20": 1.0, "2020/21": 0.27, "2021/22": 0.70, "2022/23": 0.96,
                                     "2023/24": 1.05}

# The schools' rates below are scaled by this, so that the whole network stays a few MB of files.
MOBILITY_SCALE = 0.6

SYNTHETIC_NOTE = "All demo figures are synthetic."


def year_start(year: str) -> int:
    return int(year[:4])


def year_bounds(year: str) -> tuple[dt.date, dt.date]:
    """The academic year's first and last day (1 September – 31 August)."""
    y = year_start(year)
    return dt.date(y, 9, 1), dt.date(y + 1, 8, 31)


@dataclass(frozen=True)
class Agency:
    name: str
    country: str
    wfme: bool


AGENCIES: dict[str, Agency] = {
    "DE": Agency("Akkreditierungsrat", "DE", True),
    "FR": Agency("HCERES", "FR", True),
    "BE": Agency("NVAO", "BE", True),
    "NL": Agency("NVAO", "NL", True),
    "IT": Agency("ANVUR", "IT", True),
    "SE": Agency("UKÄ", "SE", True),
    "PL": Agency("PKA", "PL", True),
    "AU": Agency("AMC", "AU", True),
    "AT": Agency("AQ Austria", "AT", True),
    "ES": Agency("ANECA", "ES", True),
    "PT": Agency("A3ES", "PT", True),
    "CZ": Agency("NAU", "CZ", True),
    "HU": Agency("MAB", "HU", True),
    "DK": Agency("Danmarks Akkrediteringsinstitution", "DK", True),
    "FI": Agency("FINEEC", "FI", True),
    "IE": Agency("Medical Council", "IE", True),
    "GR": Agency("HAHE", "GR", True),
    "RO": Agency("ARACIS", "RO", True),
    "HR": Agency("ASHE", "HR", True),
    "SI": Agency("SQAA", "SI", True),
    "LT": Agency("SKVC", "LT", False),  # the network's one school accredited by an agency without WFME recognition
    "NO": Agency("NOKUT", "NO", True),
    "CH": Agency("AAQ", "CH", True),
}


@dataclass(frozen=True)
class Style:
    """How a school writes its files (fixed for the school across years and datasets)."""

    key: str  # 'cp1252_semicolon' | 'utf8_bom' | 'xlsx_title' | 'synonyms'
    headers: str = "canonical"  # 'canonical' | 'title' | 'german' | 'italian' | 'synonyms'
    values: str = "canonical"  # 'canonical' | 'german' | 'synonyms'
    year_format: str = "slash"  # 'slash' 2021/22 | 'dash' 2021-22 | 'dash4' 2021-2022 | 'slash4' 2021/2022
    uk_el: bool = False  # writes GB as UK and GR as EL in partner_country (the Erasmus convention)
    title_blank_row: bool = False  # XLSX: an empty row between the title and the header
    totals_label: str | None = None  # XLSX: staffing/enrolment sheets end with a totals row
    file_name: str = "{dataset}_{year}"  # without extension; {school} and {Dataset} also available

    @property
    def extension(self) -> str:
        return "xlsx" if self.key == "xlsx_title" else "csv"


@dataclass(frozen=True)
class School:
    school_id: str
    name: str
    short: str  # used in XLSX titles
    country_code: str
    city: str
    erasmus_code: str
    network_role: str
    consent_to_be_named: bool
    style: Style
    levels: dict[str, int]  # programme_level -> students in 2019/20
    ref_prefix: str  # the school's own mobility ids
    intl_students: float  # degree-seeking international share
    out_rate: float  # outgoing student participants per enrolled student and year (before the pandemic)
    in_ratio: float  # incoming / outgoing students
    staff_ratio: float  # academic staff headcount per student
    staff_mobility: float  # outgoing staff mobilities per staff member and year
    foreign_staff: float  # foreign nationality share of academic staff
    intl_experience: float  # share with international experience (scaled per category)
    training: float  # share trained for internationalisation in 2019/20 (grows)
    english_teaching: float  # share of staff teaching in English
    ects_english: float  # share of ECTS taught in English
    english_programme: str | None = None  # an English-taught programme accredited on its own
    programme_name: str = "Medicine"
    institutional: bool = True  # has an institutional accreditation line
    erasmus: bool = True  # takes part in Erasmus+ (Monash and Geneva do not)
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def students(self) -> int:
        return sum(self.levels.values())


# --- house styles --------------------------------------------------------------------------------

CP1252 = "cp1252_semicolon"
BOM = "utf8_bom"
XLSX = "xlsx_title"
SYN = "synonyms"


def _s(key: str, **kw) -> Style:
    return Style(key, **kw)


SCHOOLS: tuple[School, ...] = (
    # --- the seven IMS 2020 partners -----------------------------------------------------------
    School("charite-berlin", "Charité – Universitätsmedizin Berlin", "Charité", "DE", "Berlin", "D  BERLIN13",
           "partner", True,
           _s(XLSX, headers="german", values="german", title_blank_row=True, totals_label="Gesamt",
              file_name="{Dataset}_{year}_Charite"),
           {"long_cycle": 6400, "master": 520, "doctoral": 760}, "CH", 0.11, 0.052, 0.95, 0.50, 0.020,
           0.16, 0.45, 0.08, 0.25, 0.06, programme_name="Humanmedizin (Modellstudiengang)"),
    School("paris-cite", "Université Paris Cité (Paris Descartes)", "Université Paris Cité", "FR", "Paris",
           "F  PARIS005", "partner", True,
           _s(BOM, year_format="dash", file_name="{dataset}_{year}"),
           {"long_cycle": 7800, "master": 640, "doctoral": 610}, "UPC", 0.09, 0.030, 1.10, 0.38, 0.016,
           0.08, 0.35, 0.05, 0.12, 0.03, programme_name="Diplôme de formation en sciences médicales"),
    School("antwerp", "University of Antwerp", "Antwerp", "BE", "Antwerp", "B  ANTWERP01", "partner", True,
           _s(SYN, headers="synonyms", values="synonyms", year_format="dash4", uk_el=True,
              file_name="{dataset}_{year}"),
           {"bachelor": 1620, "master": 1880, "doctoral": 480}, "UA", 0.10, 0.065, 0.80, 0.46, 0.024,
           0.24, 0.55, 0.12, 0.35, 0.10, programme_name="Master of Medicine (Geneeskunde)"),
    School("sapienza-roma", "Sapienza Università di Roma", "Sapienza", "IT", "Rome", "I  ROMA01", "partner", True,
           _s(CP1252, headers="italian", file_name="{dataset}_{year}"),
           {"long_cycle": 8000, "master": 380, "doctoral": 560}, "SAP", 0.05, 0.024, 0.85, 0.34, 0.012,
           0.03, 0.30, 0.04, 0.10, 0.08, english_programme="Medicine and Surgery (English-taught)",
           programme_name="Medicina e Chirurgia"),
    School("karolinska", "Karolinska Institutet", "Karolinska Institutet", "SE", "Stockholm", "S  STOCKHO03",
           "partner", True,
           _s(XLSX, headers="title", totals_label="Total", file_name="{Dataset} {year} KI"),
           {"long_cycle": 2350, "bachelor": 2480, "master": 1120, "doctoral": 1900}, "KI", 0.12, 0.038, 1.30,
           0.55, 0.026, 0.34, 0.65, 0.15, 0.60, 0.22, programme_name="Läkarprogrammet"),
    School("warsaw-mu", "Medical University of Warsaw", "WUM", "PL", "Warsaw", "PL WARSZAW06", "partner", True,
           _s(SYN, headers="synonyms", values="synonyms", year_format="dash4", file_name="{school}_{dataset}_{year}"),
           {"long_cycle": 5200, "bachelor": 1480, "master": 880, "doctoral": 420}, "WUM", 0.10, 0.028, 0.60, 0.36,
           0.012, 0.02, 0.30, 0.06, 0.20, 0.12, english_programme="Medicine – English Division",
           programme_name="Kierunek lekarski"),
    School("monash", "Monash University", "Monash", "AU", "Melbourne", "", "partner", True,
           _s(BOM, year_format="slash4", file_name="{dataset}_{year}"),
           {"long_cycle": 2300, "bachelor": 1950, "master": 690, "doctoral": 820}, "MON", 0.26, 0.030, 0.55, 0.40,
           0.014, 0.38, 0.60, 0.10, 0.97, 1.0, programme_name="Bachelor of Medical Science and Doctor of Medicine",
           institutional=False, erasmus=False),
    # --- member schools ------------------------------------------------------------------------
    School("meduni-wien", "Medizinische Universität Wien", "MedUni Wien", "AT", "Vienna", "A  WIEN64", "member",
           True, _s(CP1252, headers="german", values="german", file_name="{dataset}_{year}"),
           {"long_cycle": 5300, "doctoral": 880}, "MUW", 0.22, 0.040, 0.70, 0.44, 0.016,
           0.25, 0.45, 0.06, 0.15, 0.04, programme_name="Humanmedizin"),
    School("amsterdam-umc", "University of Amsterdam – Amsterdam UMC", "Amsterdam UMC", "NL", "Amsterdam",
           "NL AMSTERD01", "member", True, _s(BOM, file_name="{dataset}_{year}"),
           {"bachelor": 1400, "master": 1620, "doctoral": 1180}, "AMC", 0.06, 0.050, 0.70, 0.48, 0.020,
           0.20, 0.55, 0.10, 0.50, 0.15, programme_name="Geneeskunde"),
    School("barcelona-med", "Universitat de Barcelona – Facultat de Medicina i Ciències de la Salut", "UB Medicina",
           "ES", "Barcelona", "E  BARCELO01", "member", True,
           _s(SYN, headers="synonyms", values="synonyms", year_format="dash4", uk_el=True,
              file_name="{dataset}_{year}"),
           {"long_cycle": 4600, "master": 720, "doctoral": 590}, "UBMED", 0.04, 0.040, 1.40, 0.36, 0.012,
           0.06, 0.35, 0.05, 0.05, 0.03, programme_name="Grado en Medicina"),
    School("lisboa-med", "Universidade de Lisboa – Faculdade de Medicina", "FMUL", "PT", "Lisbon", "P  LISBOA109",
           "member", True, _s(CP1252, uk_el=True, file_name="{dataset}_{year}"),
           {"long_cycle": 2900, "master": 310, "doctoral": 250}, "FMUL", 0.06, 0.050, 1.20, 0.40, 0.015,
           0.04, 0.35, 0.05, 0.05, 0.03, programme_name="Mestrado Integrado em Medicina"),
    School("charles-prague", "Charles University – First Faculty of Medicine", "1st Faculty of Medicine", "CZ",
           "Prague", "CZ PRAHA07", "member", True,
           _s(XLSX, title_blank_row=True, file_name="{dataset}_{year}"),
           {"long_cycle": 3700, "bachelor": 520, "doctoral": 690}, "1LF", 0.25, 0.035, 0.80, 0.40, 0.014,
           0.07, 0.40, 0.06, 0.30, 0.25, english_programme="General Medicine (English)",
           programme_name="Všeobecné lékařství"),
    School("semmelweis", "Semmelweis University", "Semmelweis", "HU", "Budapest", "HU BUDAPES06", "member", True,
           _s(BOM, year_format="slash", file_name="{dataset}_{year}"),
           {"long_cycle": 7200, "master": 420, "doctoral": 880}, "SE", 0.40, 0.020, 0.40, 0.36, 0.010,
           0.06, 0.35, 0.05, 0.45, 0.38, english_programme="Medicine (English programme)",
           programme_name="Általános orvos"),
    School("copenhagen-health", "Københavns Universitet – Det Sundhedsvidenskabelige Fakultet", "SUND", "DK",
           "Copenhagen", "DK KOBENHA01", "member", True, _s(CP1252, file_name="{dataset}_{year}"),
           {"bachelor": 1800, "master": 1700, "doctoral": 1100}, "KU", 0.05, 0.055, 0.90, 0.50, 0.022,
           0.22, 0.55, 0.10, 0.30, 0.12, programme_name="Medicin"),
    School("helsinki-med", "University of Helsinki – Faculty of Medicine", "Helsinki Medicine", "FI", "Helsinki",
           "SF HELSINK01", "member", True,
           _s(SYN, headers="synonyms", values="synonyms", year_format="dash4", uk_el=True,
              file_name="{dataset}_{year}"),
           {"long_cycle": 1900, "master": 520, "doctoral": 780}, "HY", 0.04, 0.060, 0.80, 0.50, 0.022,
           0.15, 0.50, 0.08, 0.25, 0.10, programme_name="Lääketieteen lisensiaatti"),
    School("tcd-dublin", "Trinity College Dublin – School of Medicine", "TCD Medicine", "IE", "Dublin",
           "IRLDUBLIN01", "member", True, _s(BOM, year_format="dash", file_name="{dataset}_{year}"),
           {"long_cycle": 1300, "master": 410, "doctoral": 300}, "TCD", 0.30, 0.050, 0.60, 0.50, 0.018,
           0.28, 0.60, 0.10, 0.98, 1.0, programme_name="Medicine (MB BCh BAO)"),
    School("athens-nkua", "National and Kapodistrian University of Athens – School of Medicine", "NKUA Medicine",
           "GR", "Athens", "G  ATHINE01", "member", False, _s(BOM, uk_el=True, file_name="{dataset}_{year}"),
           {"long_cycle": 3400, "master": 880, "doctoral": 790}, "NKUA", 0.03, 0.030, 0.60, 0.36, 0.010,
           0.02, 0.30, 0.03, 0.04, 0.02, programme_name="Ιατρική"),
    School("carol-davila", "Carol Davila University of Medicine and Pharmacy", "UMF Carol Davila", "RO",
           "Bucharest", "RO BUCURES10", "member", False,
           _s(XLSX, totals_label="Total", file_name="{dataset}_{year}"),
           {"long_cycle": 6800, "doctoral": 600}, "UMFCD", 0.14, 0.020, 0.30, 0.30, 0.008,
           0.02, 0.25, 0.03, 0.12, 0.10, programme_name="Medicină"),
    School("zagreb-med", "University of Zagreb – School of Medicine", "Zagreb Medicine", "HR", "Zagreb",
           "HR ZAGREB01", "member", False,
           _s(SYN, headers="synonyms", values="synonyms", year_format="dash4", uk_el=True,
              file_name="{dataset}_{year}"),
           {"long_cycle": 2300, "doctoral": 600}, "MEF", 0.09, 0.025, 0.50, 0.40, 0.010,
           0.03, 0.35, 0.04, 0.15, 0.12, english_programme="Medical Studies in English", programme_name="Medicina"),
    School("ljubljana-med", "University of Ljubljana – Faculty of Medicine", "Ljubljana Medicine", "SI",
           "Ljubljana", "SI LJUBLJA01", "member", True, _s(BOM, file_name="{dataset}_{year}"),
           {"long_cycle": 1320, "doctoral": 310}, "MF", 0.05, 0.050, 0.90, 0.44, 0.015,
           0.05, 0.40, 0.05, 0.10, 0.05, programme_name="Splošna medicina"),
    School("lsmu-kaunas", "Lithuanian University of Health Sciences", "LSMU", "LT", "Kaunas", "LT KAUNAS13",
           "member", False, _s(CP1252, file_name="{dataset}_{year}"),
           {"long_cycle": 4100, "master": 310, "doctoral": 290}, "LSMU", 0.28, 0.030, 0.50, 0.32, 0.010,
           0.05, 0.30, 0.04, 0.35, 0.28, english_programme="Medicine (English)", programme_name="Medicina"),
    School("oslo-med", "University of Oslo – Faculty of Medicine", "UiO Medicine", "NO", "Oslo", "N  OSLO01",
           "member", True, _s(XLSX, file_name="{dataset}_{year}"),
           {"long_cycle": 1900, "master": 310, "doctoral": 880}, "UIO", 0.06, 0.070, 0.80, 0.52, 0.022,
           0.25, 0.55, 0.10, 0.20, 0.08, programme_name="Profesjonsstudiet i medisin"),
    # --- advisory --------------------------------------------------------------------------------
    School("geneva-med", "Université de Genève – Faculté de médecine", "UNIGE Médecine", "CH", "Geneva",
           "CH GENEVE01", "advisory", True, _s(BOM, year_format="slash4", file_name="{dataset}_{year}"),
           {"bachelor": 1000, "master": 920, "doctoral": 500}, "UNIGE", 0.15, 0.040, 0.60, 0.50, 0.018,
           0.45, 0.65, 0.10, 0.15, 0.05, programme_name="Médecine humaine", erasmus=False),
)

SCHOOL_BY_ID: dict[str, School] = {s.school_id: s for s in SCHOOLS}
PARTNERS = tuple(s.school_id for s in SCHOOLS if s.network_role == "partner")

# --- the irregularities the demo shows on purpose (structural: the same for every seed) -------------

GAPS: tuple[tuple[str, str, str, str], ...] = (
    ("staffing", "oslo-med", "2020/21", "not submitted (staff survey suspended during the pandemic)"),
    ("accreditation", "helsinki-med", "2019/20", "not submitted (the school joined the reporting in 2020/21)"),
)
REFUSED = ("mobility", "ljubljana-med", "2022/23")  # the malformed file: direction and start_date missing
CONDITIONS_SCHOOL = "barcelona-med"  # a programme accredited with conditions (2020)
EXPIRING_SCHOOL = "carol-davila"  # institutional accreditation expires in 2022, renewal pending
NOT_ACCREDITED_SCHOOL = "zagreb-med"  # English programme refused in 2020, accredited in 2021

# --- partner institutions and countries ----------------------------------------------------------

# (name as the partner writes it, English name for files whose encoding cannot hold the first)
INSTITUTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "DE": (("Ludwig-Maximilians-Universität München", "LMU Munich"), ("Universität Heidelberg", "Heidelberg University"),
           ("Universität zu Köln", "University of Cologne"), ("Universität Hamburg", "University of Hamburg")),
    "FR": (("Université Claude Bernard Lyon 1", ""), ("Aix-Marseille Université", ""),
           ("Université de Bordeaux", ""), ("Université de Strasbourg", "")),
    "BE": (("KU Leuven", ""), ("Université libre de Bruxelles", ""), ("Universiteit Gent", ""),
           ("Université catholique de Louvain", "")),
    "IT": (("Università di Bologna", ""), ("Università degli Studi di Padova", ""),
           ("Università degli Studi di Milano", ""), ("Università degli Studi di Firenze", "")),
    "SE": (("Lunds universitet", ""), ("Uppsala universitet", ""), ("Göteborgs universitet", ""),
           ("Umeå universitet", "")),
    "PL": (("Uniwersytet Jagielloński – Collegium Medicum", "Jagiellonian University Medical College"),
           ("Uniwersytet Medyczny w Łodzi", "Medical University of Lodz"),
           ("Gdański Uniwersytet Medyczny", "Medical University of Gdansk"),
           ("Uniwersytet Medyczny im. Karola Marcinkowskiego w Poznaniu", "Poznan University of Medical Sciences")),
    "AU": (("University of Melbourne", ""), ("University of Sydney", ""), ("University of Queensland", "")),
    "AT": (("Medizinische Universität Innsbruck", ""), ("Medizinische Universität Graz", ""),
           ("Paracelsus Medizinische Privatuniversität", "")),
    "NL": (("Universiteit Maastricht", ""), ("Radboud Universiteit", ""), ("Erasmus Universiteit Rotterdam", ""),
           ("Universiteit Leiden", "")),
    "ES": (("Universidad Complutense de Madrid", ""), ("Universidad de Granada", ""),
           ("Universidad de Salamanca", ""), ("Universitat de València", "")),
    "PT": (("Universidade do Porto", ""), ("Universidade de Coimbra", ""), ("Universidade do Minho", "")),
    "CZ": (("Masarykova univerzita", "Masaryk University"), ("Univerzita Palackého v Olomouci", ""),
           ("Univerzita Karlova – Lékařská fakulta v Plzni", "Charles University, Faculty of Medicine in Pilsen")),
    "HU": (("Debreceni Egyetem", ""), ("Szegedi Tudományegyetem", ""), ("Pécsi Tudományegyetem", "")),
    "DK": (("Aarhus Universitet", ""), ("Syddansk Universitet", ""), ("Aalborg Universitet", "")),
    "FI": (("Turun yliopisto", ""), ("Oulun yliopisto", ""), ("Tampereen yliopisto", ""),
           ("Itä-Suomen yliopisto", "")),
    "IE": (("University College Dublin", ""), ("University of Galway", ""),
           ("RCSI University of Medicine and Health Sciences", ""), ("University College Cork", "")),
    "GR": (("Αριστοτέλειο Πανεπιστήμιο Θεσσαλονίκης", "Aristotle University of Thessaloniki"),
           ("Πανεπιστήμιο Κρήτης", "University of Crete"), ("Πανεπιστήμιο Πατρών", "University of Patras")),
    "RO": (("Universitatea de Medicină și Farmacie „Iuliu Hațieganu” Cluj-Napoca",
            "Iuliu Hatieganu University of Medicine and Pharmacy"),
           ("Universitatea de Medicină și Farmacie „Grigore T. Popa” Iași",
            "Grigore T. Popa University of Medicine and Pharmacy")),
    "HR": (("Sveučilište u Splitu", "University of Split"), ("Sveučilište u Rijeci", "University of Rijeka"),
           ("Sveučilište Josipa Jurja Strossmayera u Osijeku", "University of Osijek")),
    "SI": (("Univerza v Mariboru", ""),),
    "LT": (("Vilniaus universitetas", ""),),
    "LV": (("Rīgas Stradiņa universitāte", "Riga Stradins University"),),
    "EE": (("Tartu Ülikool", ""),),
    "SK": (("Univerzita Komenského v Bratislave", ""), ("Univerzita Pavla Jozefa Šafárika v Košiciach",
                                                        "Pavol Jozef Safarik University in Kosice")),
    "NO": (("Universitetet i Bergen", ""), ("Norges teknisk-naturvitenskapelige universitet", ""),
           ("UiT Norges arktiske universitet", "")),
    "CH": (("Universität Zürich", ""), ("Universität Bern", ""), ("Université de Lausanne", ""),
           ("Universität Basel", "")),
    "IS": (("Háskóli Íslands", ""),),
    "MT": (("University of Malta", ""),),
    "TR": (("Hacettepe Üniversitesi", ""), ("İstanbul Üniversitesi", "Istanbul University")),
    "RS": (("Univerzitet u Beogradu", ""),),
    "GB": (("University College London", ""), ("King's College London", ""), ("University of Edinburgh", ""),
           ("University of Oxford", "")),
    "US": (("Johns Hopkins University", ""), ("Harvard Medical School", ""),
           ("University of California San Francisco", ""), ("Mayo Clinic Alix School of Medicine", "")),
    "CA": (("McGill University", ""), ("University of Toronto", "")),
    "JP": (("Kyoto University", ""), ("University of Tokyo", "")),
    "CN": (("Peking University Health Science Center", ""), ("Fudan University", "")),
    "IL": (("Tel Aviv University", ""), ("Hebrew University of Jerusalem", "")),
    "ZA": (("University of Cape Town", ""),),
    "BR": (("Universidade de São Paulo", ""),),
    "IN": (("All India Institute of Medical Sciences", ""),),
    "TZ": (("Muhimbili University of Health and Allied Sciences", ""),),
    "MY": (("Monash University Malaysia", ""), ("University of Malaya", "")),
    "SG": (("National University of Singapore", ""),),
    "NZ": (("University of Auckland", ""), ("University of Otago", "")),
}

# Erasmus+ programme countries (weights: how often a medical school's exchanges go there).
ERASMUS_COUNTRIES: dict[str, float] = {
    "ES": 14, "IT": 12, "FR": 10, "DE": 10, "PT": 6, "SE": 5, "NL": 5, "BE": 5, "AT": 4, "CZ": 4, "PL": 4,
    "DK": 3, "FI": 3, "NO": 3, "IE": 3, "HU": 3, "GR": 3, "RO": 2, "HR": 2, "SI": 2, "LT": 2, "LV": 1, "EE": 1,
    "SK": 1, "MT": 1, "IS": 1, "TR": 2, "RS": 1,
}
UK_ERASMUS_UNTIL = "2021/22"  # the UK's last Erasmus+ mobilities in the demo (weight 6 until then)
OVERSEAS: dict[str, float] = {
    "US": 8, "CH": 5, "GB": 6, "CA": 3, "AU": 2, "JP": 2, "CN": 2, "IL": 2, "ZA": 2, "BR": 1, "IN": 1, "TZ": 2,
    "SG": 1, "NZ": 1,
}
MONASH_PARTNERS: dict[str, float] = {
    "GB": 8, "US": 8, "MY": 6, "CA": 3, "SG": 3, "NZ": 3, "JP": 2, "CN": 2, "SE": 2, "DE": 2, "FR": 1, "IT": 1,
}
