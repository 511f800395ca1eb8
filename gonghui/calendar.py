"""Working-day calendar (工作日历) that knows Chinese public holidays and make-up working days.

A day is a *working day* unless it is a public holiday (法定节假日, including the weekend days
the State Council folds into a holiday week) or an ordinary Saturday/Sunday that is not a
*make-up working day* (调休上班日, a weekend day worked in exchange for a longer holiday).

Where each year's answers come from, first match wins:

1. ``operator``: a list an operator loaded for that year (``gonghui holidays load FILE``,
   a CSV file or one year of the holiday-cn data set's JSON), stored as
   ``<holidays_dir>/<year>.json``. It replaces the package for that whole year, so
   a correction or a year the package does not know yet can be supplied without a release.
2. ``chinese_calendar``: the ``chinesecalendar`` package, for the years it has data for
   (see :func:`package_years`).
3. ``weekend-fallback``: Saturdays and Sundays off, every other day a working day. This is
   wrong in every holiday week, so it is logged once per year per calendar and reported by
   :meth:`WorkingCalendar.status`. From 1 December the next year is expected too:
   :meth:`WorkingCalendar.holiday_warnings` (shown by every service's health) says what is
   missing.

Pure Python on purpose (no nameko): services, the CLI and tests share it.
"""

import contextlib
import csv
import functools
import io
import json
import logging
import os
import re
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar

__all__ = [
    "HOLIDAY",
    "WORKDAY",
    "SOURCE_OPERATOR",
    "SOURCE_PACKAGE",
    "SOURCE_FALLBACK",
    "HolidayFileError",
    "YearCalendar",
    "WorkingCalendar",
    "format_holiday_file",
    "package_years",
    "parse_holiday_file",
]

logger = logging.getLogger("gonghui.calendar")

SOURCE_OPERATOR = "operator"
SOURCE_PACKAGE = "chinese_calendar"
SOURCE_FALLBACK = "weekend-fallback"

HOLIDAY = "holiday"
WORKDAY = "workday"
HEADER = ("date", "kind", "name")
LOAD_COMMAND = "gonghui holidays load FILE"

# Only files named exactly like this are operator data; anything else in the directory
# (README, examples/, temp files of an interrupted load) is never read.
_STORED_NAME = re.compile(r"^(\d{4})\.json$")
# date.fromisoformat also takes forms such as 20250101; the file format promises one form.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STORED_FORMAT = 1
_BOM = b"\xef\xbb\xbf"
# From this day of a year (month, day) the next year's holidays are expected to be loaded:
# the State Council publishes them in November, and January must not start without them.
NEXT_YEAR_DUE = (12, 1)
_ONE_DAY = timedelta(days=1)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class HolidayFileError(ValueError):
    """A holiday list that cannot be used.

    ``errors`` lists ``(line_number, reason)`` for every bad row, not only the first, so an
    operator fixes the file in one go. Line 1 is the header; line 0 means the problem is not
    tied to a line (an unreadable file, or a :class:`YearCalendar` built in code).
    """

    def __init__(self, message, errors=()):
        self.message = message
        self.errors = list(errors)
        super().__init__(message, self.errors)

    def __str__(self):
        lines = [self.message]
        lines += [f"line {n}: {reason}" if n else reason for n, reason in self.errors]
        return "\n".join(lines)


@dataclass(frozen=True)
class YearCalendar:
    """One calendar year's public holidays and make-up working days, name by date.

    ``holidays`` are days off (法定节假日, weekend days of a holiday week included);
    ``workdays`` are make-up working days (调休上班日), always a Saturday or Sunday.
    """

    year: int
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)

    def is_working_day(self, d):
        return d in self.workdays or (d.weekday() < 5 and d not in self.holidays)


@functools.cache
def package_years():
    """Years the installed ``chinesecalendar`` package really has data for, ascending.

    The package raises ``NotImplementedError`` outside the range between its first and last
    listed holiday; inside that range it would silently answer weekends-only for a year it
    has no entries for, so a year also needs entries of its own.
    """
    listed = {d.year for d in chinese_calendar.holidays} | {
        d.year for d in chinese_calendar.workdays
    }
    known = []
    for year in sorted(listed):
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            continue
        known.append(year)
    return tuple(known)


def parse_holiday_file(path, calendar=None):
    """Read and validate an operator's holiday list; return its :class:`YearCalendar`.

    Two layouts are read: JSON when the file is named ``*.json`` or starts (after a
    byte-order mark and blanks) with ``{`` or ``[``, else CSV.

    CSV: UTF-8 (a byte-order mark is accepted), header ``date,kind,name`` on line 1, then
    one row per day: ``2027-01-01,holiday,元旦`` or ``2027-02-20,workday,春节``. ``kind``
    is ``holiday`` (a day off) or ``workday`` (a make-up working day, which must be a
    Saturday or Sunday); ``name`` may be empty. Blank lines and lines starting with ``#``
    are skipped. All dates must be in one calendar year and each date listed once.

    JSON: one year of the public holiday-cn data set, ``{"year": 2027, "days": [{"name":
    "元旦", "date": "2027-01-01", "isOffDay": true}, ...]}``; ``isOffDay`` false is a
    make-up working day (a Saturday or Sunday). Other keys (``papers``, ``$schema``) are
    ignored. A notice may start a holiday in late December of the year before (holiday-cn
    lists those days in the new year's file): such a day is accepted when ``calendar``
    (default: the package and the weekend fallback) already answers the same for it, since
    it then changes nothing; otherwise it is an error, because it belongs in the previous
    year's list.

    Raises :class:`HolidayFileError` listing every problem: bad CSV rows with their line
    numbers, bad JSON entries with their place in ``days`` (``days[3]``, counted from 0 as
    in jq).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HolidayFileError(f"cannot read holiday file {path}: {exc}", []) from exc
    if path.suffix.lower() == ".json" or raw.removeprefix(_BOM).lstrip()[:1] in (b"{", b"["):
        return _parse_holiday_cn(raw, str(path), calendar or WorkingCalendar())
    return _parse_lines(_decode_lines(raw), str(path))


def format_holiday_file(year_calendar):
    """The CSV text of ``year_calendar`` in the format :func:`parse_holiday_file` reads.

    Lets an operator start from what the calendar knows (for instance a package year that
    needs one correction) instead of typing a year from scratch.
    """
    rows = [(d, HOLIDAY, name) for d, name in year_calendar.holidays.items()]
    rows += [(d, WORKDAY, name) for d, name in year_calendar.workdays.items()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for d, kind, name in sorted(rows):
        writer.writerow((d.isoformat(), kind, name))
    return out.getvalue()


class WorkingCalendar:
    """Working-day calendar over public holidays and make-up working days (调休).

    ``holidays_dir`` is where operator-loaded years are stored (``<year>.json``); ``None``
    means no operator data: the package and the weekend fallback only. The directory is
    re-checked on every question (one ``stat``), so a year loaded by another process, such
    as the CLI, is used by running services without a restart.
    """

    def __init__(self, holidays_dir=None):
        self.holidays_dir = Path(holidays_dir) if holidays_dir is not None else None
        self._lock = threading.Lock()
        # year -> (file stamp, YearCalendar or None, reason the file was not usable or None)
        self._stored = {}
        self._warned_years = set()

    # -- questions about one day ---------------------------------------------------------

    def is_working_day(self, d):
        return self._day(d)[0]

    def is_holiday(self, d):
        """True for any non-working day: a public holiday or an ordinary weekend day."""
        return not self._day(d)[0]

    def holiday_name(self, d):
        """Name of the public holiday ``d`` belongs to, or None.

        None for working days (make-up working days included) and for ordinary weekends.
        Package years give the package's English names; operator years give whatever the
        operator's file says (often Chinese).
        """
        return self._day(d)[1]

    # -- moving along working days -------------------------------------------------------

    def next_working_day(self, d):
        """First working day strictly after ``d``."""
        return self._step(_as_date(d) + _ONE_DAY, 1)

    def previous_working_day(self, d):
        """Last working day strictly before ``d``."""
        return self._step(_as_date(d) - _ONE_DAY, -1)

    def working_day_on_or_after(self, d):
        return self._step(_as_date(d), 1)

    def working_day_on_or_before(self, d):
        """``d`` if it is a working day, else the last working day before it.

        What a due date that falls on a holiday usually moves back to.
        """
        return self._step(_as_date(d), -1)

    def add_working_days(self, d, n):
        """The ``n``-th working day after ``d`` (``n`` > 0) or before it (``n`` < 0).

        ``n == 0`` returns ``d`` unchanged, even when ``d`` is not a working day; use
        :meth:`working_day_on_or_after` / :meth:`working_day_on_or_before` to snap a date.
        """
        d = _as_date(d)
        n = _as_int(n)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self._day(d)[0]:
                remaining -= 1
        return d

    def working_days_between(self, start, end):
        """Working days in the half-open interval ``(start, end]``: ``start`` excluded.

        For ``end < start`` the count of ``(end, start]`` is returned negated, so that
        ``add_working_days(start, working_days_between(start, end)) == end`` whenever
        ``end`` is a working day (and ``start == end`` gives 0).
        """
        start, end = _as_date(start), _as_date(end)
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = 0
        d = start + _ONE_DAY
        while d <= end:
            count += self._day(d)[0]
            d += _ONE_DAY
        return sign * count

    # -- where the answers come from -----------------------------------------------------

    def source(self, year):
        """``"operator"``, ``"chinese_calendar"`` or ``"weekend-fallback"`` for ``year``."""
        return self._resolve(_as_int(year))[0]

    def status(self, year):
        """``{"year", "source", "known", "message"}``; ``message`` is a sentence for people."""
        year = _as_int(year)
        source, year_calendar = self._resolve(year)
        if source == SOURCE_OPERATOR:
            message = (
                f"Public holidays and make-up working days (调休) of {year} come from the list "
                f"an operator loaded ({self._stored_path(year)}): "
                f"{len(year_calendar.holidays)} holidays and "
                f"{len(year_calendar.workdays)} make-up working days."
            )
        elif source == SOURCE_PACKAGE:
            message = (
                f"Public holidays and make-up working days (调休) of {year} come from the "
                f"chinesecalendar package {chinese_calendar.__version__}."
            )
        else:
            message = (
                f"Public holidays of {year} are not known, so weekends only are used: every "
                f"Saturday and Sunday is a day off and every Monday to Friday a working day, "
                f"with no public holidays and no make-up working days (调休). An operator "
                f"loads the official list with `{LOAD_COMMAND}` (a CSV file date,kind,name or "
                f"a holiday-cn JSON file; see deploy/holidays/README.md)."
            )
            if self.holidays_dir is None:
                message += (
                    " This calendar has no holidays directory configured, so loaded lists "
                    "are not read."
                )
        problem = self._stored_problem(year)
        if problem:
            message = (
                f"The loaded list {self._stored_path(year)} cannot be used ({problem}) "
                f"and is ignored. {message}"
            )
        return {
            "year": year,
            "source": source,
            "known": source != SOURCE_FALLBACK,
            "message": message,
        }

    def year_calendar(self, year):
        """The :class:`YearCalendar` in use for ``year``, or None in a fallback year."""
        year = _as_int(year)
        source, year_calendar = self._resolve(year)
        if source == SOURCE_PACKAGE:
            return YearCalendar(
                year,
                {d: n for d, n in sorted(chinese_calendar.holidays.items()) if d.year == year},
                {d: n for d, n in sorted(chinese_calendar.workdays.items()) if d.year == year},
            )
        return year_calendar

    def holiday_warnings(self, as_of):
        """What an operator has to do about public holidays on ``as_of``, as a list.

        One entry (``{"check", "year", "source", "message", "command"}``) for the year of
        ``as_of`` when its holidays are not known, and, from 1 December, one for the next
        year when its holidays are not loaded yet. Before 1 December the next year is not
        mentioned. A function of ``as_of`` and of what is loaded only: the clock is never
        read, so the caller (a health check) passes today's date.
        """
        as_of = _as_date(as_of)
        years = [as_of.year]
        if (as_of.month, as_of.day) >= NEXT_YEAR_DUE:
            years.append(as_of.year + 1)
        warnings = []
        for year in years:
            source = self.source(year)
            if source != SOURCE_FALLBACK:
                continue
            if year == as_of.year:
                message = (
                    f"Public holidays of {year} are not known: working days are counted on "
                    f"weekends only (no public holidays, no make-up working days)."
                )
            else:
                message = (
                    f"Public holidays of {year} are not loaded yet: from 1 January {year} "
                    f"working days would be counted on weekends only (no public holidays, "
                    f"no make-up working days)."
                )
            problem = self._stored_problem(year)
            if problem:
                message += f" The list in {self._stored_path(year)} cannot be used: {problem}."
            message += (
                f" Load the official list with `{LOAD_COMMAND}` (CSV or holiday-cn JSON, "
                f"deploy/holidays/README.md)."
            )
            warnings.append(
                {
                    "check": "holidays",
                    "year": year,
                    "source": source,
                    "message": message,
                    "command": LOAD_COMMAND,
                }
            )
        return warnings

    # -- operator data -------------------------------------------------------------------

    def loaded_years(self):
        """Years with a usable operator-loaded list in ``holidays_dir``, ascending."""
        if self.holidays_dir is None:
            return []
        try:
            names = os.listdir(self.holidays_dir)
        except FileNotFoundError:
            return []
        years = sorted(int(m.group(1)) for m in map(_STORED_NAME.match, names) if m)
        return [y for y in years if self._operator_year(y) is not None]

    def load_year(self, source):
        """Validate a holiday list (a CSV or holiday-cn JSON path, or a
        :class:`YearCalendar`) and store it.

        Stored as ``<holidays_dir>/<year>.json`` through a temporary file and a rename, so a
        reader sees the old list or the new one, never half a file; a list that fails
        validation raises :class:`HolidayFileError` and leaves the stored list untouched.
        Returns the :class:`YearCalendar`, which this calendar uses from then on.
        """
        if self.holidays_dir is None:
            raise ValueError("this calendar has no holidays_dir, so it cannot store a year")
        if isinstance(source, YearCalendar):
            year_calendar = source
            problems = _check_year_calendar(year_calendar)
            if problems:
                raise HolidayFileError(
                    f"holiday list for {year_calendar.year!r} is not valid", problems
                )
        else:
            year_calendar = parse_holiday_file(source, calendar=self)

        self.holidays_dir.mkdir(parents=True, exist_ok=True)
        target = self._stored_path(year_calendar.year)
        payload = json.dumps(_to_stored(year_calendar), ensure_ascii=False, indent=2) + "\n"
        # Dot-prefixed temp name in the same directory: the rename stays on one file system
        # (so it is atomic) and the name never matches _STORED_NAME.
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{year_calendar.year}.", suffix=".tmp", dir=self.holidays_dir
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                # mkstemp makes the file 0600; services may run as another user.
                os.fchmod(fh.fileno(), 0o644)
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(self.holidays_dir)

        with self._lock:
            self._stored[year_calendar.year] = (_stamp(target), year_calendar, None)
        logger.info(
            "Loaded holiday list for %s into %s: %d holidays, %d make-up working days",
            year_calendar.year,
            target,
            len(year_calendar.holidays),
            len(year_calendar.workdays),
        )
        return year_calendar

    # -- internals -----------------------------------------------------------------------

    def _day(self, d):
        """``(is_working_day, holiday_name_or_None)`` for one date."""
        d = _as_date(d)
        source, year_calendar = self._resolve(d.year)
        if source == SOURCE_OPERATOR:
            if d in year_calendar.workdays:
                return True, None
            if d in year_calendar.holidays:
                return False, year_calendar.holidays[d] or None
            return d.weekday() < 5, None
        if source == SOURCE_PACKAGE:
            off, name = chinese_calendar.get_holiday_detail(d)
            # For a make-up working day the package names the holiday it pays for; only a
            # day off is reported as belonging to a holiday here.
            return not off, name if off else None
        self._warn_fallback(d.year)
        return d.weekday() < 5, None

    def _step(self, d, direction):
        while not self._day(d)[0]:
            d += _ONE_DAY * direction
        return d

    def _resolve(self, year):
        year_calendar = self._operator_year(year)
        if year_calendar is not None:
            return SOURCE_OPERATOR, year_calendar
        if year in package_years():
            return SOURCE_PACKAGE, None
        return SOURCE_FALLBACK, None

    def _warn_fallback(self, year):
        with self._lock:
            if year in self._warned_years:
                return
            self._warned_years.add(year)
        logger.warning(
            "Public holidays of %s are not known: falling back to weekends only (Saturday and "
            "Sunday off, no holidays, no make-up working days). Load the official list with "
            "`%s`.",
            year,
            LOAD_COMMAND,
        )

    def _stored_path(self, year):
        return self.holidays_dir / f"{year}.json"

    def _stored_problem(self, year):
        if self.holidays_dir is None:
            return None
        self._operator_year(year)
        with self._lock:
            entry = self._stored.get(year)
        return entry[2] if entry else None

    def _operator_year(self, year):
        if self.holidays_dir is None:
            return None
        path = self._stored_path(year)
        try:
            stamp = _stamp(path)
        except FileNotFoundError:
            stamp = None
        except OSError as exc:
            stamp = ("unreadable", str(exc))
        with self._lock:
            cached = self._stored.get(year)
        if cached is not None and cached[0] == stamp:
            return cached[1]

        year_calendar, problem = None, None
        if stamp is not None:
            try:
                year_calendar = _read_stored(path, year)
            except (OSError, ValueError) as exc:
                problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                # Logged once per version of the file: the stamp is cached with the problem.
                logger.error("Ignoring holiday list %s: %s", path, problem)
        with self._lock:
            self._stored[year] = (stamp, year_calendar, problem)
        return year_calendar


# -- parsing and storage helpers ---------------------------------------------------------


def _as_date(d):
    # datetime is a date subclass but never equals a date key, so it would miss every holiday.
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"expected a datetime.date, got {type(d).__name__}")


def _as_int(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    return n


def _decode_lines(raw):
    """``[(line_number, text or None)]``; None marks a line that is not valid UTF-8."""
    raw = raw.removeprefix(_BOM)  # spreadsheet programs add a BOM to UTF-8 CSV
    lines = []
    # Split on \n only: str.splitlines also breaks on characters such as U+2028, which would
    # make our line numbers differ from the operator's editor.
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append((number, chunk.decode("utf-8").rstrip("\r")))
        except UnicodeDecodeError:
            lines.append((number, None))
    return lines


def _parse_lines(lines, origin):
    problems = {}  # line number -> reasons, so one bad row is reported once

    def bad(number, reason):
        problems.setdefault(number, []).append(reason)

    rows = []  # (line number, date or None, kind or None, name)
    data_lines = 0
    for number, text in lines:
        if number > 1 and text is not None and (not text.strip() or text.lstrip()[:1] == "#"):
            continue
        data_lines += number > 1
        if text is None:
            bad(number, "not valid UTF-8 text (save the file as UTF-8)")
            continue
        if number == 1:
            cells = [c.strip().lower() for c in _split_csv(text)]
            if tuple(cells) != HEADER:
                bad(1, f"the first line must be the header 'date,kind,name', found {text!r}")
            continue
        cells = _split_csv(text)
        if len(cells) not in (2, 3):
            bad(
                number,
                f"expected 3 columns date,kind,name, found {len(cells)} "
                "(put a name that contains a comma in double quotes)",
            )
            continue
        date_text, kind = cells[0].strip(), cells[1].strip().lower()
        name = cells[2].strip() if len(cells) == 3 else ""
        day = _parse_date(date_text)
        if day is None:
            bad(number, f"bad date {date_text!r}: expected a real date written YYYY-MM-DD")
        if kind not in (HOLIDAY, WORKDAY):
            bad(number, f"unknown kind {cells[1].strip()!r}: expected 'holiday' or 'workday'")
            kind = None
        if day is not None and kind == WORKDAY and day.weekday() < 5:
            bad(
                number,
                f"workday {day} is a {_WEEKDAY_NAMES[day.weekday()]}: a make-up working day "
                "(调休) must be a Saturday or Sunday",
            )
        rows.append((number, day, kind, name))

    if data_lines == 0:
        bad(1, "no holidays or make-up working days are listed below the header")

    # The file's year is the one most of its dates are in, so a single stray row is the one
    # reported rather than every other row.
    years = Counter(day.year for _, day, _, _ in rows if day is not None)
    year = years.most_common(1)[0][0] if years else None
    first_seen = {}
    for number, day, _, _ in rows:
        if day is None:
            continue
        if day.year != year:
            bad(
                number,
                f"{day} is in {day.year}, but this file is for {year} "
                "(one file holds one calendar year)",
            )
        if day in first_seen:
            bad(number, f"{day} is already listed on line {first_seen[day]}")
        else:
            first_seen[day] = number

    if problems:
        errors = [(n, "; ".join(reasons)) for n, reasons in sorted(problems.items())]
        count = len(errors)
        raise HolidayFileError(
            f"holiday file {origin} has {count} bad line{'s' if count != 1 else ''}", errors
        )

    holidays, workdays = {}, {}
    for _, day, kind, name in sorted(rows, key=lambda r: r[1]):
        (holidays if kind == HOLIDAY else workdays)[day] = name
    return YearCalendar(year, holidays, workdays)


def _parse_holiday_cn(raw, origin, calendar):
    """The :class:`YearCalendar` of one year's file of the holiday-cn data set."""
    try:
        data = json.loads(raw.removeprefix(_BOM).decode("utf-8"))
    except UnicodeDecodeError:
        raise HolidayFileError(
            f"holiday file {origin} is not valid UTF-8 text (save the file as UTF-8)"
        ) from None
    except json.JSONDecodeError as exc:
        raise HolidayFileError(
            f"holiday file {origin} is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise HolidayFileError(
            f"holiday file {origin} must be a JSON object with \"year\" and \"days\" (the "
            f"holiday-cn layout), found {type(data).__name__}"
        )
    problems = []
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        problems.append(f'"year" must be a whole number such as 2027, found {year!r}')
        year = None
    days = data.get("days")
    if not isinstance(days, list):
        problems.append(
            '"days" must be a list of {"name", "date", "isOffDay"}, '
            f"found {type(days).__name__ if days is not None else 'nothing'}"
        )
        days = []
    elif not days:
        problems.append('"days" is empty: no holidays or make-up working days are listed')

    holidays, workdays, first_seen = {}, {}, {}
    for index, entry in enumerate(days):
        where = f"days[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected an object with name, date and isOffDay")
            continue
        reasons = []
        text = entry.get("date")
        day = _parse_date(text) if isinstance(text, str) else None
        if "date" not in entry:
            reasons.append("no date")
        elif day is None:
            reasons.append(f"bad date {text!r}: expected a real date written YYYY-MM-DD")
        off = entry.get("isOffDay")
        if not isinstance(off, bool):
            reasons.append(
                "isOffDay must be true (a day off) or false (a make-up working day), "
                f"found {off!r}" if "isOffDay" in entry else "no isOffDay"
            )
        name = entry.get("name")
        name = "" if name is None else name
        if not isinstance(name, str):
            reasons.append(f"name must be text, found {name!r}")
        if day is not None and off is False and day.weekday() < 5:
            reasons.append(
                f"make-up working day {day} is a {_WEEKDAY_NAMES[day.weekday()]}: a "
                "make-up working day (调休) must be a Saturday or Sunday"
            )
        if day is not None and day in first_seen:
            reasons.append(f"{day} is already listed at days[{first_seen[day]}]")
        elif day is not None:
            first_seen[day] = index
        if day is not None and year is not None and day.year != year:
            reasons += _other_year_day(day, off, year, calendar)
            day = None  # never part of this year's list
        if reasons:
            problems.append(f"{where}: " + "; ".join(reasons))
        elif day is not None:
            (holidays if off else workdays)[day] = name

    if problems:
        count = len(problems)
        raise HolidayFileError(
            f"holiday file {origin} has {count} problem{'s' if count != 1 else ''}; "
            "nothing was loaded",
            [(0, reason) for reason in problems],
        )
    return YearCalendar(year, dict(sorted(holidays.items())), dict(sorted(workdays.items())))


def _other_year_day(day, off, year, calendar):
    """Why a day outside the file's year cannot be taken ([] when it changes nothing)."""
    if day.year != year - 1 or day.month != 12:
        return [f"{day} is in {day.year}, but this file is for {year} (one file holds one year)"]
    if not isinstance(off, bool):
        return []  # already reported
    working = calendar.is_working_day(day)
    if working != off:
        return []  # the calendar already says the same: nothing to load
    said = "a working day" if working else "a day off"
    return [
        f"{day} is in December {day.year} (from the notice for {year}), and the calendar "
        f"of {day.year} ({calendar.source(day.year)}) says it is {said}: load a complete "
        f"list for {day.year} with this day first, then this file"
    ]


def _split_csv(text):
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        # A malformed quote: fall back to a plain split so the row still gets a reason.
        return text.split(",")


def _parse_date(text):
    if not _ISO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _check_year_calendar(year_calendar):
    """Problems of a :class:`YearCalendar` built in code or read back from storage."""
    year = year_calendar.year
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        return [(0, f"year must be an int between 1 and 9999, got {year!r}")]
    problems = []
    for kind, days in ((HOLIDAY, year_calendar.holidays), (WORKDAY, year_calendar.workdays)):
        for day, name in days.items():
            if isinstance(day, datetime) or not isinstance(day, date):
                problems.append((0, f"{kind} {day!r} is not a datetime.date"))
                continue
            if day.year != year:
                problems.append((0, f"{kind} {day} is not in {year}"))
            if not isinstance(name, str):
                problems.append((0, f"{kind} {day} has a name that is not text: {name!r}"))
            if kind == WORKDAY and day.weekday() < 5:
                problems.append(
                    (
                        0,
                        f"workday {day} is a {_WEEKDAY_NAMES[day.weekday()]}: a make-up "
                        "working day (调休) must be a Saturday or Sunday",
                    )
                )
    for day in sorted(set(year_calendar.holidays) & set(year_calendar.workdays)):
        problems.append((0, f"{day} is listed both as a holiday and as a workday"))
    return problems


def _to_stored(year_calendar):
    return {
        "format": _STORED_FORMAT,
        "year": year_calendar.year,
        "holidays": {d.isoformat(): n for d, n in sorted(year_calendar.holidays.items())},
        "workdays": {d.isoformat(): n for d, n in sorted(year_calendar.workdays.items())},
    }


def _read_stored(path, expected_year):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, dict) and "days" in data and "format" not in data:
        raise ValueError(
            "it is a holiday-cn file copied in by hand, not a loaded list: load it with "
            f"`{LOAD_COMMAND}`"
        )
    if not isinstance(data, dict) or data.get("format") != _STORED_FORMAT:
        raise ValueError(f"not a stored holiday list of format {_STORED_FORMAT}")
    if data.get("year") != expected_year:
        raise ValueError(f"it holds year {data.get('year')!r}, not {expected_year}")

    def days(key):
        entries = data.get(key)
        if not isinstance(entries, dict):
            raise ValueError(f"{key!r} is missing or not an object")
        parsed = {}
        for text, name in entries.items():
            day = _parse_date(text)
            if day is None:
                raise ValueError(f"bad date {text!r} in {key!r}")
            parsed[day] = name
        return parsed

    year_calendar = YearCalendar(expected_year, days("holidays"), days("workdays"))
    problems = _check_year_calendar(year_calendar)
    if problems:
        raise ValueError("; ".join(reason for _, reason in problems))
    return year_calendar


def _stamp(path):
    # The inode changes on every os.replace, so a reload is seen even when two loads fall in
    # the same mtime tick.
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _fsync_dir(directory):
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
