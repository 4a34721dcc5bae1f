"""Find out what a received text file is: its encoding, its CSV dialect, where its header is."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ims_indicators.errors import InputRefused

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (";", ",", "\t", "|")
_LINE_END = re.compile(r"\r\n|\r|\n")
CLEVERCSV_CHARS = 1024  # clevercsv is super-linear on long tokens (16 KiB of digits: 7 s; 5 MB: hours)

# the csv module refuses fields over 128 KiB ("field larger than field limit"); a huge cell must not make
# every delimiter look wrong (the sample is bounded by SAMPLE_BYTES anyway)
csv.field_size_limit(max(csv.field_size_limit(), 2 * SAMPLE_BYTES))


@dataclass(frozen=True)
class Dialect:
    encoding: str  # python codec name of the received bytes
    delimiter: str
    quote: str = '"'


def detect_encoding(path: Path) -> str:
    """'utf-8-sig', 'utf-8', 'utf-16' or a single-byte code page (cp1252 …); refuses binary files."""
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise InputRefused(path.name, "the file is binary (it contains NUL bytes); expected a CSV text file or XLSX")
    # Valid UTF-8 through the whole file is UTF-8; decode incrementally so big files stay out of memory.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(4 * 1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    results = list(from_bytes(head, cp_isolation=["cp1252", "cp1250", "iso8859_15", "iso8859_2"]))
    if not results:
        return "cp1252"
    least = min(r.chaos for r in results)
    # each result names the code pages that decode the sample alike (ä is E4 in cp1250 and cp1252)
    calm = [enc for r in results if r.chaos <= least + 0.01 for enc in [r.encoding, *r.could_be_from_charset]]
    # Excel in Western Europe writes Windows-1252: prefer it whenever it reads the bytes as calmly as any other
    return "cp1252" if "cp1252" in calm else calm[0]


UTF8 = ("utf-8", "utf-8-sig")  # read by DuckDB itself
LATIN1_FAMILY = ("cp1252", "latin_1", "iso8859_1")  # read by DuckDB itself as Latin-1 unless bytes 80-9F say not
PROFILE_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ByteProfile:
    """What one pass over a file's bytes tells: whether it holds a quote (a field may span lines) or a byte 80–9F
    (where cp1252 puts €, „ … and Latin-1 has control codes), and its line ends."""

    quote: bool
    c1: bool
    lf: int
    cr: int
    crlf: int
    last: bytes  # the last byte (b"" for an empty file)


def profile_bytes(path: Path) -> ByteProfile:
    """One pass in numpy over 8 MB chunks (bytes.count took 0.35 s for the three counts of a 140 MB file, numpy
    0.2 s with the rest). numpy releases the GIL: ``raw.load_csv`` runs it beside DuckDB's read of the file."""
    import numpy as np

    quote = c1 = False
    lf = cr = crlf = 0
    last = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(PROFILE_CHUNK):
            quote = quote or b'"' in chunk
            data = np.frombuffer(chunk, dtype=np.uint8)
            c1 = c1 or bool(np.any(data - np.uint8(0x80) < 0x20))  # 80-9F, the subtraction wrapping around
            is_lf = data == 10
            lf += int(np.count_nonzero(is_lf))
            is_cr = data == 13
            if n_cr := int(np.count_nonzero(is_cr)):
                cr += n_cr
                crlf += int(np.count_nonzero(is_cr[:-1] & is_lf[1:]))
            crlf += last + chunk[:1] == b"\r\n"  # one may straddle two chunks
            last = chunk[-1:]
    return ByteProfile(quote, c1, lf, cr, crlf, last)


def reads_as_latin1(encoding: str, profile: ByteProfile) -> bool:
    """True when the bytes mean the same in ``encoding`` and Latin-1 (for cp1252: no byte 80–9F), so DuckDB can
    decode the file itself. ISO 8859-15 differs from Latin-1 at A4 A6 A8 B4 B8 BC BD BE: never."""
    return encoding in ("latin_1", "iso8859_1") or (encoding == "cp1252" and not profile.c1)


TRANSCODE_CHUNK = 4 * 1024 * 1024


def transcode_to_utf8(path: Path, encoding: str, dest: Path, *, one_line_end: bool = False) -> Path:
    """Stream a non-UTF-8 file into a UTF-8 copy (DuckDB reads UTF-8). A byte the encoding does not define refuses
    the file, naming its offset in the file and its line; the half-written copy is removed.
    ``one_line_end``: CRLF and CR become LF (DuckDB's strict parser refuses a file that mixes them)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    inner = codecs.getincrementaldecoder(encoding)()
    decoder = io.IncrementalNewlineDecoder(inner, translate=one_line_end)
    done = pending = 0  # bytes decoded before the current chunk; of them, a character begun and not ended
    try:
        with open(path, "rb") as src, open(dest, "w", encoding="utf-8", newline="") as out:
            try:
                while chunk := src.read(TRANSCODE_CHUNK):
                    pending = len(inner.getstate()[0])
                    out.write(decoder.decode(chunk))
                    done += len(chunk)
                pending = len(inner.getstate()[0])
                out.write(decoder.decode(b"", final=True))  # a character cut off at the end
            except UnicodeDecodeError as exc:
                at = done - pending + exc.start
                raise InputRefused(path.name, f"byte {at} cannot be read as {encoding}; expected UTF-8 or "
                                              "Windows-1252 text", row=_line_at(path, at, encoding)) from None
    except BaseException:
        dest.unlink(missing_ok=True)  # a half-written copy is never left behind
        raise
    return dest


def _line_at(path: Path, offset: int, encoding: str) -> int | None:
    """The line holding byte ``offset`` (None where a line end is not the byte 0A, as in UTF-16)."""
    if "\n".encode(encoding) != b"\n":
        return None
    lines = 0
    with open(path, "rb") as fh:
        while offset > 0 and (chunk := fh.read(min(offset, TRANSCODE_CHUNK))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines + 1


def sample_lines(path: Path, encoding: str, n: int = 60) -> list[str]:
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        text = fh.read(SAMPLE_BYTES)
    # only the line ends DuckDB knows: str.splitlines() also splits at form feeds, U+2028 and \x1c-\x1e, and a
    # title row holding one of them would shift the header by a line and silently drop the first data row
    lines = _LINE_END.split(text)
    return (lines[:-1] if lines and not lines[-1] else lines)[:n]


def count_fields(path: Path, encoding: str, delimiter: str, line_index: int) -> int:
    """Fields on one line of the file (0-based among the lines :func:`sample_lines` gives), streamed: a header
    longer than the sample is counted whole, so a refusal states its true width."""
    token = re.compile(r'"|\r\n|\r|\n|' + re.escape(delimiter))
    line, fields, quoted, last_cr = 0, 1, False, False
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        while chunk := fh.read(1 << 20):
            if last_cr and chunk.startswith("\n"):
                chunk = chunk[1:]
            last_cr = chunk.endswith("\r")
            if line == line_index and '"' not in chunk and "\n" not in chunk and "\r" not in chunk:
                fields += chunk.count(delimiter)  # the usual case: no quotes, no line end in this chunk
                continue
            for m in token.finditer(chunk):  # line ends as sample_lines splits them (quotes or not)
                t = m.group()
                if t == '"':
                    quoted = not quoted
                elif t == delimiter:
                    fields += line == line_index and not quoted
                elif line == line_index:
                    return fields
                else:
                    line, quoted = line + 1, False
    return fields


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample into the most consistent number of fields (> 1)."""
    body = [ln for ln in lines if ln.strip()]
    if not body:
        return ","
    best, best_score = ",", -1.0
    for delim in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO("\n".join(body[:40])), delimiter=delim)]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        modal = max(set(counts), key=counts.count)
        score = counts.count(modal) / len(counts) * min(modal, 50)
        if score > best_score:
            best, best_score = delim, score
    if best_score < 0:
        try:  # a single-column file or something odd: let clevercsv have a say
            import clevercsv

            found = clevercsv.Detector().detect("\n".join(body[:40])[:CLEVERCSV_CHARS], delimiters=list(DELIMITERS))
            if found is not None and found.delimiter:
                return found.delimiter
        except Exception:  # noqa: BLE001 - a detector failure only means "no better guess"
            pass
    return best


def split_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return line.split(delimiter)
