"""Units and members to and from the spreadsheets union offices keep (CSV or Excel .xlsx).

Pure Python: no nameko, no database. The organization service drives an import like this::

    rows, problems = read_rows("units", "xlsx", content)
    rows, more = check_units(rows, existing_codes)
    # import nothing unless problems + more is empty; create/update in the order of rows

``read_rows`` and the ``check_*`` functions return every data row together with the
problems, so one upload reports everything wrong with the file at once. A cell that could
not be converted is left out of its row's values (its problem says why); a cell that is
simply empty is None.

Line numbers are the spreadsheet's row numbers: the header is line 1, data starts on line 2,
and blank rows are skipped but still counted. For CSV a line is one record, as Excel numbers
it, even when a quoted cell spans several physical lines.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from marshmallow import ValidationError, validate
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.organization import rules

KINDS = ("units", "members")
FORMATS = ("csv", "xlsx")

UNIT_KIND_LABELS = {
    "company": "公司",
    "subsidiary": "子公司",
    "plant": "厂矿",
    "department": "部门",
    "workshop": "车间",
    "team": "班组",
    "office": "机关",
}
UNION_LEVEL_LABELS = {
    "company_union": "公司工会",
    "grassroots_union": "基层工会",
    "union_group": "工会小组",
}
# Order as users read it (男 before 女); rules.GENDERS holds the same values.
GENDER_LABELS = {"male": "男", "female": "女"}


def _choices(values, labels):
    """The service's values with their Chinese labels, in the labels' order; a value added to
    rules without a label here is still accepted (and exported) in English."""
    known = {value: label for value, label in labels.items() if value in values}
    return {**known, **{value: value for value in values if value not in known}}


# Same rule as schemas.MOBILE (a test keeps them in step).
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = validate.Email()


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str = "text"  # text | date | choice | email | mobile
    required: bool = False
    max_length: int | None = None
    labels: Mapping[str, str] | None = None  # choice: stored value -> Chinese label

    @property
    def title(self):
        return f"{self.header}/{self.key}"


@dataclass(frozen=True)
class Row:
    line: int
    values: dict


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    reason: str


# Lengths are those of the database columns, so a clean row never fails on insert.
UNIT_COLUMNS = (
    Column("code", "单位编码", required=True, max_length=40),
    Column("name", "单位名称", required=True, max_length=200),
    Column("kind", "单位类型", "choice", required=True,
           labels=_choices(rules.UNIT_KINDS, UNIT_KIND_LABELS)),
    Column("domain", "领域", max_length=60),
    Column("parent_code", "上级单位编码", max_length=40),
    Column("established_on", "成立日期", "date"),
    Column("union_level", "工会级别", "choice",
           labels=_choices(rules.UNION_LEVELS, UNION_LEVEL_LABELS)),
    Column("union_name", "工会名称", max_length=200),
)
MEMBER_COLUMNS = (
    Column("employee_no", "工号", required=True, max_length=40),
    Column("name", "姓名", required=True, max_length=100),
    # Required because the service's AddMember requires it.
    Column("gender", "性别", "choice", required=True,
           labels=_choices(rules.GENDERS, GENDER_LABELS)),
    Column("unit_code", "单位编码", required=True, max_length=40),
    Column("email", "邮箱", "email", max_length=200),
    Column("mobile", "手机号", "mobile"),
    Column("wecom_id", "企业微信", max_length=100),
    Column("joined_on", "入会日期", "date", required=True),
)
COLUMNS = {"units": UNIT_COLUMNS, "members": MEMBER_COLUMNS}
_BY_KEY = {kind: {c.key: c for c in columns} for kind, columns in COLUMNS.items()}


class _Bad(Exception):
    """A cell that cannot be converted; the message completes '<column>: ...'."""


class _Unreadable(Exception):
    def __init__(self, line, reason):
        super().__init__(reason)
        self.line = line
        self.reason = reason


# ------------------------------------------------------------------ reading


def read_rows(kind: str, file_format: str, content: bytes) -> tuple[list[Row], list[Problem]]:
    """Parse an uploaded file into rows of canonical keys and converted values."""
    columns = _columns(kind)
    try:
        lines = _xlsx_lines(content) if _format(file_format) == "xlsx" else _csv_lines(content)
        lines = [(number, cells) for number, cells in lines if not _blank_row(cells)]
    except _Unreadable as exc:
        return [], [Problem(exc.line, exc.reason)]
    if not lines:
        return [], [Problem(1, "the file has no header row and no data")]
    if lines[0][0] != 1:
        return [], [Problem(1, "line 1 must be the header row, but it is empty")]

    header, ignored, problems = _read_header(columns, lines[0][1])
    if header is None:
        return [], problems
    rows = []
    for number, cells in lines[1:]:
        values, row_problems = _read_cells(kind, columns, header, ignored, number, cells)
        rows.append(Row(number, values))
        problems.extend(row_problems)
    return rows, problems


def _columns(kind):
    if kind not in COLUMNS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return COLUMNS[kind]


def _format(file_format):
    if file_format not in FORMATS:
        raise ValueError(f"file_format must be one of {FORMATS}, not {file_format!r}")
    return file_format


def _csv_lines(content):
    if not content:
        raise _Unreadable(0, "the file is empty")
    text = _decode(content)
    first = text.split("\n", 1)[0]
    # Excel's "Unicode text" export is tab-separated; everything else here uses commas.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines = []
    try:
        for number, cells in enumerate(reader, start=1):
            lines.append((number, [_unguard(cell) for cell in cells]))
    except csv.Error as exc:
        raise _Unreadable(len(lines) + 1, f"the CSV cannot be parsed: {exc}") from None
    return lines


def _decode(content):
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            pass
    # utf-8-sig drops the BOM Excel writes; GB18030 is what Chinese Excel saves as "CSV".
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _Unreadable(0, "the CSV is neither UTF-8 nor GB18030 text; save it as "
                         "'CSV UTF-8' from Excel")


def _unguard(cell):
    # write_rows prefixes formula-like text with ' so Excel shows it as text; undo that.
    if cell[:1] == "'" and cell[1:2] in _FORMULA_STARTS:
        return cell[1:]
    return cell


def _xlsx_lines(content):
    if not content:
        raise _Unreadable(0, "the file is empty")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Unreadable(0, "this is an old Excel .xls file; save it as .xlsx and upload again")
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not xlsx
        raise _Unreadable(0, f"the file is not a readable Excel .xlsx workbook "
                             f"({type(exc).__name__})") from None
    try:
        if not book.worksheets:
            raise _Unreadable(0, "the workbook has no worksheet")
        sheet = book.worksheets[0]
        # The size recorded by some generators is wrong; read what is really there.
        sheet.reset_dimensions()
        return [(number, list(cells))
                for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
    except _Unreadable:
        raise
    except Exception as exc:
        raise _Unreadable(0, f"the first worksheet cannot be read ({type(exc).__name__})") \
            from None
    finally:
        book.close()


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_row(cells):
    return all(_blank(cell) for cell in cells)


def _header_key(text):
    # "Employee No", "employee_no", "*工号" and " 工号 " all name the same column.
    return re.sub(r"[\s_\-*]", "", text).lower()


def _read_header(columns, cells):
    """(index -> Column, indices of unknown or repeated columns, problems).

    The mapping is None when the data rows cannot be read at all."""
    lookup = {}
    for column in columns:
        lookup[_header_key(column.key)] = column
        lookup[_header_key(column.header)] = column
    expected = ", ".join(c.title for c in columns)
    header, ignored, unknown, problems, seen = {}, set(), [], [], {}
    for index, cell in enumerate(cells):
        if _blank(cell):
            continue
        text = _display(cell)
        letter = get_column_letter(index + 1)
        column = lookup.get(_header_key(str(cell)))
        if column is None:
            ignored.add(index)
            unknown.append(Problem(1, f"unknown column '{text}' (column {letter}); "
                                      f"expected: {expected}"))
        elif column.key in seen:
            ignored.add(index)
            problems.append(Problem(1, f"column '{text}' (column {letter}) repeats "
                                       f"{column.title} from column {seen[column.key]}"))
        else:
            header[index] = column
            seen[column.key] = letter
    if not header:
        # Most likely a title row above the header: one clear problem, not one per cell.
        return None, ignored, [Problem(1, f"line 1 must be the header row, but none of its "
                                          f"cells is a known column; expected: {expected}")]
    problems = unknown + problems
    missing = [c for c in columns if c.required and c.key not in seen]
    problems += [Problem(1, f"missing required column {c.title}") for c in missing]
    return (None if missing else header), ignored, problems


def _read_cells(kind, columns, header, ignored, number, cells):
    values = {column.key: None for column in columns}
    problems = []
    for index, column in header.items():
        raw = cells[index] if index < len(cells) else None
        try:
            value = _convert(column, raw)
        except _Bad as exc:
            problems.append(Problem(number, f"{column.title}: {exc}"))
            del values[column.key]
            continue
        if value is None and column.required:
            problems.append(Problem(number, f"{column.title}: is required"))
        values[column.key] = value
    for index, cell in enumerate(cells):
        if index not in header and index not in ignored and not _blank(cell):
            # Data with no header at all, typically from an unquoted comma in a CSV cell.
            # (Cells under an unknown header are covered by that header's problem.)
            problems.append(Problem(number, f"column {get_column_letter(index + 1)} has no "
                                            f"header, but holds '{_display(cell)}'"))
    if kind == "units":
        problems.extend(_check_union_pair(number, values))
    return values, problems


def _check_union_pair(number, values):
    level, name = _BY_KEY["units"]["union_level"], _BY_KEY["units"]["union_name"]
    # A key missing from values means its cell was bad and is reported already.
    if "union_level" in values and "union_name" in values:
        if values["union_level"] and not values["union_name"]:
            return [Problem(number, f"{name.title}: is required when {level.title} is given")]
        if values["union_name"] and not values["union_level"]:
            return [Problem(number, f"{level.title}: is required when {name.title} is given")]
    return []


def _display(value, limit=50):
    text = str(value).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _text(value):
    """A cell as stripped text; numbers Excel made of typed codes come back as '1001'."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        raise _Bad(f"Excel turned this cell into a date ({day.isoformat()}); format the "
                   f"column as text and type it again")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$"),
    re.compile(r"^(\d{4})(年)(\d{1,2})月(\d{1,2})日?$"),
)
DATE_FORMATS_HINT = "use YYYY-MM-DD, YYYY/M/D or YYYY年M月D日"


def _date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell formatted as a number shows as e.g. 44438 in Excel, too.
        raise _Bad(f"'{_display(value)}' is a number, not a date; {DATE_FORMATS_HINT}")
    text = _text(value)
    if text is None:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, _, month, day = match.groups()
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                raise _Bad(f"'{_display(text)}' is not a real date") from None
    raise _Bad(f"'{_display(text)}' is not a date; {DATE_FORMATS_HINT}")


def _choice(column, text):
    if text is None:
        return None
    for stored, label in column.labels.items():
        if text == label:
            return stored
    wanted = re.sub(r"\s+", "_", text.lower())
    if wanted in column.labels:
        return wanted
    accepted = ", ".join([*column.labels.values(), *column.labels])
    raise _Bad(f"'{_display(text)}' is not one of {accepted}")


def _convert(column, raw):
    if column.type == "date":
        return _date(raw)
    text = _text(raw)
    if text is None:
        return None
    if column.type == "choice":
        return _choice(column, text)
    if column.type == "mobile":
        # People type "138 0013 8000", "138-0013-8000" or "+86 13800138000".
        number = re.sub(r"[\s\-]", "", text).removeprefix("+86")
        if not MOBILE_PATTERN.match(number):
            raise _Bad(f"'{_display(text)}' is not a mainland mobile number "
                       f"(11 digits starting 13-19)")
        return number
    if column.max_length and len(text) > column.max_length:
        raise _Bad(f"is {len(text)} characters long, more than {column.max_length}")
    if column.type == "email":
        try:
            _EMAIL(text)
        except ValidationError:
            raise _Bad(f"'{_display(text)}' is not an email address") from None
    return text


# ------------------------------------------------------------------ checking


def check_units(rows: list[Row], existing_codes: Iterable[str]) -> tuple[list[Row], list[Problem]]:
    """Check units against each other and the existing ones; order parents first.

    Returns new rows, each with ``values["existing"]`` (True: update the unit with that code,
    False: create it), sorted so every parent comes before its children (a parent that is
    already in the database counts as a root); rows caught in a cycle and those below one
    come last. Cycles through the existing tree (an existing unit moved under a new one) are
    the service's to catch when it moves the unit.
    """
    existing = frozenset(existing_codes)
    code_title = _BY_KEY["units"]["code"].title
    parent_title = _BY_KEY["units"]["parent_code"].title
    out = [Row(row.line, dict(row.values)) for row in rows]
    problems = []
    first = {}  # code -> the row that first has it; children hang under that one
    for row in out:
        code = row.values.get("code")
        row.values["existing"] = code in existing if code else False
        if code is None:
            continue
        if code in first:
            problems.append(Problem(row.line, f"{code_title}: '{code}' is also on line "
                                              f"{first[code].line}"))
        else:
            first[code] = row

    def parent_of(row):
        parent = row.values.get("parent_code")
        if parent is None or parent == row.values.get("code"):
            return None
        return first.get(parent)

    for row in out:
        code, parent = row.values.get("code"), row.values.get("parent_code")
        if parent is None:
            continue
        if parent == code:
            problems.append(Problem(row.line, f"{parent_title}: a unit cannot be its own parent"))
        elif parent not in first and parent not in existing:
            problems.append(Problem(row.line, f"{parent_title}: '{parent}' is neither in this "
                                              f"file nor an existing unit"))

    # Depth below the roots, by walking parent links without recursion (files can hold long
    # chains); None marks a row in a cycle or below one.
    depth = {}
    for start in out:
        path, on_path, node = [], {}, start
        while node is not None and id(node) not in depth and id(node) not in on_path:
            on_path[id(node)] = len(path)
            path.append(node)
            node = parent_of(node)
        if node is None:
            base = -1
        elif id(node) in depth:
            base = depth[id(node)]
        else:
            loop = path[on_path[id(node)]:]
            problems.extend(_cycle_problems(parent_title, loop))
            for member in loop:
                depth[id(member)] = None
            path, base = path[:on_path[id(node)]], None
        for node in reversed(path):
            base = None if base is None else base + 1
            depth[id(node)] = base

    ordered = sorted(out, key=lambda row: (depth[id(row)] is None, depth[id(row)] or 0))
    return ordered, sorted(problems, key=lambda problem: problem.line)


def _cycle_problems(title, loop):
    problems = []
    for index, row in enumerate(loop):
        turn = loop[index:] + loop[:index]
        chain = " → ".join(r.values["code"] for r in [*turn, row])
        lines = ", ".join(str(r.line) for r in turn)
        problems.append(Problem(row.line, f"{title}: the parent chain loops back to "
                                          f"'{row.values['code']}': {chain} (lines {lines})"))
    return problems


def check_members(rows: list[Row], existing_employee_nos: Iterable[str],
                  unit_codes: Iterable[str]) -> tuple[list[Row], list[Problem]]:
    """Check members against each other, the existing members and the known units.

    ``unit_codes``: existing unit codes plus those the same import creates. Returns new rows
    with ``values["existing"]`` (True: update the member with that employee number).
    """
    existing, units = frozenset(existing_employee_nos), frozenset(unit_codes)
    no_title = _BY_KEY["members"]["employee_no"].title
    unit_title = _BY_KEY["members"]["unit_code"].title
    out, problems, first = [], [], {}
    for row in rows:
        values = dict(row.values)
        number, unit = values.get("employee_no"), values.get("unit_code")
        values["existing"] = number in existing if number else False
        if number is not None:
            if number in first:
                problems.append(Problem(row.line, f"{no_title}: '{number}' is also on line "
                                                  f"{first[number]}"))
            else:
                first[number] = row.line
        if unit is not None and unit not in units:
            problems.append(Problem(row.line, f"{unit_title}: '{unit}' is neither an existing "
                                              f"unit nor one this import creates"))
        out.append(Row(row.line, values))
    return out, problems


# ------------------------------------------------------------------ writing

# Excel runs a cell starting with one of these as a formula when it opens a CSV: member
# data must not become a formula on a colleague's machine.
_FORMULA_STARTS = ("=", "+", "-", "@")
_SHEET_TITLES = {"units": "单位", "members": "会员"}


def write_rows(kind: str, file_format: str, records: list[dict]) -> bytes:
    """Export records (dicts with the canonical keys; others are ignored) as a file that
    ``read_rows`` reads back unchanged. No records gives an empty template."""
    columns = _columns(kind)
    table = [[_export(column, record.get(column.key)) for column in columns]
             for record in records]
    if _format(file_format) == "csv":
        return _write_csv(columns, table)
    return _write_xlsx(kind, columns, table)


def _export(column, value):
    if value is None or value == "":
        return None
    if column.type == "date":
        try:
            # Records fresh from RPC carry ISO strings rather than dates.
            return _date(value)
        except _Bad:
            return str(value)
    if column.type == "choice":
        return column.labels.get(value, value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _write_csv(columns, table):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in columns])
    for cells in table:
        writer.writerow([_csv_cell(cell) for cell in cells])
    # The BOM makes Excel read the file as UTF-8 rather than the system code page.
    return buffer.getvalue().encode("utf-8-sig")


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _write_xlsx(kind, columns, table):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_SHEET_TITLES[kind])
    # Widths and frozen panes must be set before a write-only sheet gets its first row.
    for index, column in enumerate(columns, start=1):
        widest = max([_width(column.header), *(_width(cells[index - 1]) for cells in table)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 8), 60)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for cells in table:
        sheet.append([_xlsx_cell(sheet, value) for value in cells])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif value.startswith("="):
        cell.data_type = "s"  # openpyxl would store it as a formula
    return cell


def _width(value):
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    # CJK characters take two columns' width in Excel's default fonts.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))
