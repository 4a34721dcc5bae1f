"""The published layouts of the Erasmus+ KA1 mobility open data, recognised by their header.

Each published column is mapped onto one internal field name (snake_case) by its header text, compared
after folding case, spaces (incl. non-breaking ones), a BOM and the organisation/organization spelling.
A header that names every required field is read whatever its order; one that does not is refused with
the missing columns named. Columns we do not use are read and ignored.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ims_indicators.errors import InputRefused
from ims_indicators.read.limits import check_column_count
from ims_indicators.read.repair import fix_encoding, fix_text

# internal field -> header texts it is published under (the first is the current spelling)
FIELDS: dict[str, tuple[str, ...]] = {
    "project_reference": ("Project Reference", "Project Number", "Project Code"),
    "academic_year": ("Academic Year",),
    "start_month": ("Mobility Start Month", "Start Month", "Mobility Start Date"),
    "end_month": ("Mobility End Month", "End Month", "Mobility End Date"),
    "duration_days": ("Mobility Duration", "Mobility Duration (days)", "Duration (days)", "Duration"),
    "activity_mob": ("Activity (mob)", "Activity", "Mobility Activity", "Activity Type"),
    "field_of_education": ("Field of Education", "Field of Education (ISCED-F)", "Subject Area", "ISCED-F"),
    "nationality": ("Participant Nationality", "Nationality"),
    "education_level": ("Education Level", "Participant Education Level", "Level of Education"),
    "gender": ("Participant Gender", "Gender"),
    "participant_profile": ("Participant Profile", "Profile"),
    "special_needs": ("Special Needs",),
    "fewer_opportunities": ("Fewer Opportunities",),
    "group_leader": ("GroupLeader", "Group Leader"),
    "age": ("Participant Age", "Age"),
    "sending_country": ("Sending Country Code", "Sending Country"),
    "sending_city": ("Sending City",),
    "sending_organisation": ("Sending Organization", "Sending Organisation", "Sending Organisation Name"),
    "sending_erasmus_code": ("Sending Organisation Erasmus Code", "Sending Organization Erasmus Code",
                             "Sending Erasmus Code", "Sending Organisation Erasmus ID"),
    "receiving_country": ("Receiving Country Code", "Receiving Country"),
    "receiving_city": ("Receiving City",),
    "receiving_organisation": ("Receiving Organization", "Receiving Organisation", "Receiving Organisation Name"),
    "receiving_erasmus_code": ("Receiving Organisation Erasmus Code", "Receiving Organization Erasmus Code",
                               "Receiving Erasmus Code", "Receiving Organisation Erasmus ID"),
    "participants": ("Participants", "Actual Participants", "Number of Participants", "Participants (total)"),
}
# Without these a row cannot become a mobility (the academic year is derived from the start month if absent).
REQUIRED = ("start_month", "end_month", "activity_mob", "sending_country", "sending_erasmus_code",
            "receiving_country", "receiving_erasmus_code", "participants")

CURRENT = tuple(s.strip() for s in ["Project Reference", "Academic Year", "Mobility Start Month", "Mobility End Month", "\nMobility Duration", "Activity (mob)", "Field of Education", "Participant Nationality", "Education Level", "Participant Gender", "\nParticipant Profile", "Special Needs", "Fewer Opportunities", "GroupLeader", "Participant Age", "Sending Country Code", "Sending City", "\nSending Organization", "Sending Organisation Erasmus Code", "Receiving Country Code", "Receiving City", "Receiving Organization", "\nReceiving Organisation Erasmus Code", "Participants"])

# The files of the first Erasmus+ years (calls 2014-2015): no field of education, no fewer-opportunities or
# group-leader flags, and "Organization" in the Erasmus-code headers.
KA1_2014 = tuple(s.strip() for s in ["Project Reference", "Academic Year", "Mobility Start Month", "Mobility End Month", "\nMobility Duration", "Activity (mob)", "Participant Nationality", "Education Level", "Participant Gender", "Participant Profile", "\nSpecial Needs", "Participant Age", "Sending Country Code", "Sending City", "Sending Organization", "\nSending Organization Erasmus Code", "Receiving Country Code", "Receiving City", "Receiving Organization", "\nReceiving Organization Erasmus Code", "Participants"])

LAYOUTS: dict[str, tuple[str, ...]] = {"ka1-2016+": CURRENT, "ka1-2014": KA1_2014}

# Older EC mobility files we recognise but cannot read: the LLP Erasmus student/staff mobility data (2007-2014),
# one row per person with the home and host institution codes, no KA1 activity. Named in the refusal.
OLDER: dict[str, tuple[str, ...]] = {
    "LLP Erasmus student mobility (2007-2014)": ("HOMEINSTITUTION", "COUNTRYOFHOMEINSTITUTION", "HOSTINSTITUTION",
                                                  "COUNTRYOFHOSTINSTITUTION", "MOBILITYTYPE", "STUDYSTARTDATE"),
    "LLP Erasmus staff mobility (2007-2014)": ("HOMEINSTITUTION", "HOSTINSTITUTION", "STAFFMOBILITYTYPE",
                                                "LENGTHOFTEACHINGPERIOD"),
}


def normalise_header(text: str) -> str:
    s = fix_text(text).replace("\u00a0", " ").strip().strip('"').strip().lower()
    s = s.replace("organization", "organisation")
    return re.sub(r"\s+", " ", s)


_BY_HEADER = {normalise_header(h): f for f, hs in FIELDS.items() for h in hs}


@dataclass(frozen=True)
class Layout:
    name: str  # a known layout, or "by column names" when the header only names the fields
    delimiter: str
    encoding: str  # DuckDB encoding name: utf-8 or latin-1
    columns: tuple[str, ...]  # one internal name per column of the file, in file order (unused: _col<i>)
    ignored: tuple[str, ...]  # header texts of columns not used
    headers: tuple[str, ...]  # the header text of each column, in file order (for messages)
    repairs: tuple[str, ...] = ()  # header cells whose mojibake was repaired

    @property
    def fields(self) -> set[str]:
        return {c for c in self.columns if not c.startswith("_col")}


def _head(path: Path, size: int = 1 << 20) -> tuple[str, str]:
    """The first line of the file as text, and the DuckDB encoding to read the file with."""
    with open(path, "rb") as fh:
        head = fh.read(size)
    if not head.strip():
        raise InputRefused(path.name, "the file is empty; expected the Erasmus+ mobility header and rows", row=1)
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    whole_lines = head if len(head) < size else (head[: head.rfind(b"\n") + 1] or head)
    try:
        whole_lines.decode("utf-8")
    except UnicodeDecodeError:  # not UTF-8: read as Latin-1 (the header shown as Windows-1252)
        return line.decode("cp1252", errors="replace"), "latin-1"
    return line.decode("utf-8-sig"), "utf-8"


def _count_fields(path: Path, delimiter: str) -> int:
    """Fields of the first line, however long it is (read in blocks; quotes not considered: an upper bound)."""
    n = 1
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            end = block.find(b"\n")
            n += (block if end < 0 else block[:end]).count(delimiter.encode())
            if end >= 0:
                break
    return n


def _closest(norm: set[str], path: Path, missing: list[str]) -> str:
    """The refusal for a header that is no layout we read: the known (or older EC) layout it resembles, and what
    it lacks."""
    flat = {re.sub(r"[^a-z]", "", h) for h in norm}
    for name, cols in OLDER.items():
        if sum(c.lower() in flat for c in cols) >= 3:
            return (f"the {name} layout is an older EC layout this loader does not read (it has no KA1 activity "
                    f"and no Erasmus codes of both sides: missing {', '.join(missing)}); expected the Erasmus+ "
                    f"KA1 layout ka1-2014 or ka1-2016+ ({';'.join(CURRENT)})")
    name, cols = max(LAYOUTS.items(), key=lambda kv: len(norm & {normalise_header(c) for c in kv[1]}))
    found = len(norm & {normalise_header(c) for c in cols})
    return (f"not a known Erasmus+ mobility layout: closest is {name} ({found} of its {len(cols)} columns found), "
            f"missing column(s) {', '.join(missing)}; expected the published header ({';'.join(CURRENT)})")


def detect_layout(path: Path) -> Layout:
    """Recognise the header of an open-data file, or refuse the file naming the layout and the missing columns."""
    line, encoding = _head(path)
    delimiter = max((";", "\t", ","), key=line.count)
    if line.count(delimiter) == 0:
        raise InputRefused(path.name, "the first line is not a ';'-separated header; expected the Erasmus+ "
                                      f"mobility columns ({';'.join(CURRENT[:3])};…)", row=1)
    check_column_count(path.name, _count_fields(path, delimiter))
    headers = next(csv.reader([line], delimiter=delimiter, quotechar='"'))  # quoted on some cells or all
    repairs = tuple(h for h in headers if fix_encoding(h) != h)
    columns, ignored, seen = [], [], {}
    for i, h in enumerate(headers):
        field = _BY_HEADER.get(normalise_header(h))
        if field is None or field in seen:
            if field in seen:
                raise InputRefused(path.name, f"columns {seen[field]!r} and {h.strip()!r} both mean {field}; "
                                              "expected each column once", row=1, column=h.strip())
            columns.append(f"_col{i}")
            ignored.append(h.strip())
        else:
            seen[field] = h.strip()
            columns.append(field)
    norm = tuple(normalise_header(h) for h in headers)
    missing = [FIELDS[f][0] for f in REQUIRED if f not in seen]
    if missing:
        raise InputRefused(path.name, _closest(set(norm), path, missing), row=1)
    name = next((n for n, cols in LAYOUTS.items() if tuple(map(normalise_header, cols)) == norm), "by column names")
    return Layout(name, delimiter, encoding, tuple(columns), tuple(ignored), tuple(h.strip() for h in headers),
                  repairs)
