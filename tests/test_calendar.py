"""Working-day calendar: package years, weekend fallback, operator-loaded lists.

Every fact about 2024-2026 below was checked against chinesecalendar 1.11.0's data.
"""

import json
import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from gonghui.calendar import (
    HolidayFileError,
    WorkingCalendar,
    YearCalendar,
    format_holiday_file,
    package_years,
    parse_holiday_file,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "holidays" / "examples"

# 2031: far enough ahead that no chinesecalendar release in use will know it.
# 2031-01-01 is a Wednesday, 2031-01-04 a Saturday, 2031-01-25/26 a weekend.
GOOD_2031 = """date,kind,name
2031-01-01,holiday,元旦
2031-01-02,holiday,元旦
2031-01-03,holiday,元旦
2031-01-04,workday,元旦
"""


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def fallback_warnings(caplog):
    return [
        r for r in caplog.records if r.name == "gonghui.calendar" and r.levelno == logging.WARNING
    ]


@pytest.fixture
def cal():
    return WorkingCalendar()


# -- what the package knows ---------------------------------------------------------------


def test_package_years_match_what_the_package_answers():
    years = package_years()
    assert years == tuple(range(2004, 2027))
    for year in years:
        chinese_calendar.is_workday(date(year, 6, 1))  # does not raise
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(years[-1] + 1, 1, 1))


def test_2025_national_day_and_its_make_up_working_days(cal):
    for day in range(1, 9):
        assert not cal.is_working_day(date(2025, 10, day))
        assert cal.is_holiday(date(2025, 10, day))
    assert cal.holiday_name(date(2025, 10, 1)) == "National Day"
    assert cal.holiday_name(date(2025, 10, 6)) == "Mid-autumn Festival"
    # Sunday 28 September and Saturday 11 October were worked (调休).
    assert cal.is_working_day(date(2025, 9, 28))
    assert cal.is_working_day(date(2025, 10, 11))
    assert cal.holiday_name(date(2025, 10, 11)) is None
    assert cal.is_working_day(date(2025, 10, 9))
    assert not cal.is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    assert cal.holiday_name(date(2025, 10, 12)) is None
    assert cal.source(2025) == "chinese_calendar"
    assert cal.status(2025)["known"] is True


def test_2024_spring_festival(cal):
    for day in range(10, 18):
        assert not cal.is_working_day(date(2024, 2, day))
    assert cal.holiday_name(date(2024, 2, 12)) == "Spring Festival"
    assert cal.is_working_day(date(2024, 2, 4))  # Sunday, worked
    assert cal.is_working_day(date(2024, 2, 18))  # Sunday, worked
    assert cal.is_working_day(date(2024, 2, 9))  # Friday before, a working day in 2024


def test_2026_spring_festival_and_new_year(cal):
    assert 2026 in package_years()
    for day in range(15, 24):
        assert not cal.is_working_day(date(2026, 2, day))
    assert cal.holiday_name(date(2026, 2, 17)) == "Spring Festival"
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, worked
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday, worked
    assert not cal.is_working_day(date(2026, 1, 2))  # Friday, New Year's Day holiday
    assert cal.is_working_day(date(2026, 1, 4))  # Sunday, worked


def test_datetime_is_treated_as_its_date(cal):
    assert not cal.is_working_day(datetime(2025, 10, 1, 9, 30))
    with pytest.raises(TypeError):
        cal.is_working_day("2025-10-01")


# -- moving along working days ------------------------------------------------------------


def test_add_working_days_across_the_national_day_week(cal):
    before = date(2025, 9, 30)  # Tuesday, last working day before the holiday
    assert cal.add_working_days(before, 1) == date(2025, 10, 9)
    assert cal.add_working_days(before, 2) == date(2025, 10, 10)
    assert cal.add_working_days(before, 3) == date(2025, 10, 11)  # the worked Saturday
    assert cal.add_working_days(before, 4) == date(2025, 10, 13)
    assert cal.add_working_days(date(2025, 10, 9), -1) == before
    assert cal.add_working_days(date(2025, 10, 9), -3) == date(2025, 9, 28)  # worked Sunday
    assert cal.add_working_days(date(2025, 10, 3), 0) == date(2025, 10, 3)
    # From inside the holiday the first working day counts as 1.
    assert cal.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 9)


def test_due_date_on_a_holiday_moves(cal):
    due = date(2025, 10, 3)
    assert cal.working_day_on_or_before(due) == date(2025, 9, 30)
    assert cal.working_day_on_or_after(due) == date(2025, 10, 9)
    assert cal.previous_working_day(due) == date(2025, 9, 30)
    assert cal.next_working_day(due) == date(2025, 10, 9)
    # On a working day the on-or-* forms stay, the strict forms move.
    assert cal.working_day_on_or_before(date(2025, 9, 30)) == date(2025, 9, 30)
    assert cal.previous_working_day(date(2025, 9, 30)) == date(2025, 9, 29)
    assert cal.previous_working_day(date(2025, 9, 29)) == date(2025, 9, 28)  # worked Sunday
    assert cal.next_working_day(date(2025, 10, 10)) == date(2025, 10, 11)  # worked Saturday


def test_working_days_between_counts_start_exclusive_end_inclusive(cal):
    start, end = date(2025, 9, 26), date(2025, 10, 12)
    # 9-28 (worked Sunday), 9-29, 9-30, 10-09, 10-10, 10-11 (worked Saturday)
    assert cal.working_days_between(start, end) == 6
    assert cal.working_days_between(end, start) == -6
    assert cal.working_days_between(start, start) == 0
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    # The convention makes it the inverse of add_working_days for a working-day end.
    for a, b in [(date(2025, 9, 30), date(2025, 10, 13)), (date(2025, 10, 13), date(2025, 9, 28))]:
        assert cal.add_working_days(a, cal.working_days_between(a, b)) == b


def test_walks_across_a_year_boundary(cal):
    # 2026-12-31 is a Thursday (package year); 2027 is not known, so weekends only.
    assert cal.next_working_day(date(2026, 12, 31)) == date(2027, 1, 1)
    assert cal.previous_working_day(date(2026, 1, 5)) == date(2026, 1, 4)  # worked Sunday


# -- a year nobody knows ------------------------------------------------------------------


def test_unknown_year_falls_back_to_weekends_and_says_so(cal, caplog):
    caplog.set_level(logging.WARNING, logger="gonghui.calendar")
    assert cal.source(2031) == "weekend-fallback"
    status = cal.status(2031)
    assert status["year"] == 2031
    assert status["source"] == "weekend-fallback"
    assert status["known"] is False
    assert "Public holidays of 2031 are not known" in status["message"]
    assert "weekends only are used" in status["message"]
    assert "gonghui holidays load FILE" in status["message"]
    assert fallback_warnings(caplog) == []  # asking about the source is not a date question

    assert cal.is_working_day(date(2031, 1, 1))  # a Wednesday, no holiday known
    assert not cal.is_working_day(date(2031, 1, 4))  # a Saturday
    assert cal.next_working_day(date(2031, 1, 3)) == date(2031, 1, 6)
    assert cal.add_working_days(date(2031, 1, 1), 10) == date(2031, 1, 15)
    assert cal.working_days_between(date(2031, 1, 1), date(2031, 2, 1)) == 22

    warnings = fallback_warnings(caplog)
    assert len(warnings) == 1
    assert "2031" in warnings[0].getMessage()
    assert "weekends" in warnings[0].getMessage()

    cal.is_working_day(date(2032, 1, 1))  # another year warns on its own
    assert len(fallback_warnings(caplog)) == 2
    WorkingCalendar().is_working_day(date(2031, 1, 1))  # and so does another calendar
    assert len(fallback_warnings(caplog)) == 3


def test_without_holidays_dir_nothing_is_loaded(tmp_path, cal):
    assert cal.loaded_years() == []
    assert "no holidays directory" in cal.status(2031)["message"]
    with pytest.raises(ValueError, match="no holidays_dir"):
        cal.load_year(write(tmp_path / "2031.csv", GOOD_2031))


# -- operator-loaded lists ----------------------------------------------------------------


def test_loading_a_year_changes_answers_and_source(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="gonghui.calendar")
    store = tmp_path / "holidays"
    cal = WorkingCalendar(holidays_dir=store)
    assert cal.is_working_day(date(2031, 1, 1))
    assert cal.loaded_years() == []

    loaded = cal.load_year(write(tmp_path / "2031.csv", GOOD_2031))
    assert loaded == YearCalendar(
        2031,
        {date(2031, 1, d): "元旦" for d in (1, 2, 3)},
        {date(2031, 1, 4): "元旦"},
    )
    assert not cal.is_working_day(date(2031, 1, 1))
    assert cal.holiday_name(date(2031, 1, 1)) == "元旦"
    assert cal.is_working_day(date(2031, 1, 4))  # the worked Saturday
    assert cal.next_working_day(date(2030, 12, 31)) == date(2031, 1, 4)
    assert cal.source(2031) == "operator"
    status = cal.status(2031)
    assert status["known"] is True
    assert "3 holidays and 1 make-up working days" in status["message"]
    assert cal.loaded_years() == [2031]

    stored = json.loads((store / "2031.json").read_text(encoding="utf-8"))
    assert stored["holidays"]["2031-01-01"] == "元旦"
    assert sorted(os.listdir(store)) == ["2031.json"]  # no temp file left behind

    fresh = WorkingCalendar(holidays_dir=store)
    assert fresh.source(2031) == "operator"
    assert not fresh.is_working_day(date(2031, 1, 2))
    assert len(fallback_warnings(caplog)) == 1  # only the ask before loading


def test_a_running_calendar_sees_a_year_loaded_elsewhere(tmp_path):
    running = WorkingCalendar(holidays_dir=tmp_path)
    assert running.is_working_day(date(2031, 1, 2))
    WorkingCalendar(holidays_dir=tmp_path).load_year(write(tmp_path / "in.csv", GOOD_2031))
    assert not running.is_working_day(date(2031, 1, 2))
    assert running.source(2031) == "operator"


def test_operator_list_wins_over_the_package(tmp_path):
    cal = WorkingCalendar(holidays_dir=tmp_path)
    corrected = write(
        tmp_path / "2025.csv",
        "date,kind,name\n2025-10-01,holiday,国庆节\n2025-10-02,holiday,国庆节\n",
    )
    cal.load_year(corrected)
    assert cal.source(2025) == "operator"
    assert cal.holiday_name(date(2025, 10, 1)) == "国庆节"
    assert cal.is_working_day(date(2025, 10, 8))  # not in the loaded list any more
    assert not cal.is_working_day(date(2025, 9, 28))  # nor the worked Sunday
    assert cal.source(2024) == "chinese_calendar"


def test_load_a_year_calendar_built_in_code(tmp_path):
    cal = WorkingCalendar(holidays_dir=tmp_path)
    year = YearCalendar(2031, {date(2031, 1, 1): "元旦"}, {})
    assert cal.load_year(year) == year
    assert cal.loaded_years() == [2031]
    with pytest.raises(HolidayFileError) as bad:
        cal.load_year(YearCalendar(2032, {date(2031, 1, 1): ""}, {date(2032, 1, 5): ""}))
    reasons = [reason for _, reason in bad.value.errors]
    assert any("not in 2032" in r for r in reasons)
    assert any("Monday" in r for r in reasons)
    assert cal.loaded_years() == [2031]


def test_export_of_a_package_year_loads_back_unchanged(tmp_path):
    cal = WorkingCalendar(holidays_dir=tmp_path)
    exported = write(tmp_path / "2025.csv", format_holiday_file(cal.year_calendar(2025)))
    cal.load_year(exported)
    assert cal.source(2025) == "operator"
    for offset in range(365):
        day = date(2025, 1, 1) + timedelta(days=offset)
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day


# -- bad files ----------------------------------------------------------------------------

BAD_2031 = """date,kind,name
2031-01-01,holiday,元旦
2031-02-30,holiday,春节
2031-01-02,vacation,元旦

# a comment line, skipped but still counted
2032-01-01,holiday,元旦
2031-01-01,holiday,元旦
2031-01-06,workday,元旦
2031-01-25,holiday,春节
2031-01-26,holiday,"春节, 除夕"
2031-01-27,holiday,春节,extra
01/28/2031,holiday,春节
2031-01-29,weekday
"""


def test_bad_file_reports_every_bad_row_with_its_line_number(tmp_path):
    with pytest.raises(HolidayFileError) as exc:
        parse_holiday_file(write(tmp_path / "bad.csv", BAD_2031))
    errors = exc.value.errors
    assert [n for n, _ in errors] == [3, 4, 7, 8, 9, 12, 13, 14]
    reasons = dict(errors)
    assert "bad date '2031-02-30'" in reasons[3]
    assert "unknown kind 'vacation'" in reasons[4]
    assert "2032-01-01 is in 2032, but this file is for 2031" in reasons[7]
    assert "already listed on line 2" in reasons[8]
    assert "is a Monday" in reasons[9]
    assert "found 4" in reasons[12]
    assert "bad date '01/28/2031'" in reasons[13]
    assert "unknown kind 'weekday'" in reasons[14]
    # Holidays on a weekend (lines 10, 11) are fine, as is a quoted name with a comma.
    assert "8 bad lines" in str(exc.value)
    assert "line 3: bad date" in str(exc.value)


def test_header_is_required(tmp_path):
    with pytest.raises(HolidayFileError) as exc:
        parse_holiday_file(write(tmp_path / "h.csv", "2031-01-01,holiday,元旦\n"))
    assert exc.value.errors[0][0] == 1
    assert "header" in exc.value.errors[0][1]
    with pytest.raises(HolidayFileError) as exc:
        parse_holiday_file(write(tmp_path / "empty.csv", "date,kind,name\n"))
    assert exc.value.errors == [
        (1, "no holidays or make-up working days are listed below the header")
    ]


def test_utf8_with_bom_is_read_and_other_encodings_are_reported(tmp_path):
    parsed = parse_holiday_file(write(tmp_path / "bom.csv", GOOD_2031, encoding="utf-8-sig"))
    assert parsed.holidays[date(2031, 1, 1)] == "元旦"
    with pytest.raises(HolidayFileError) as exc:
        parse_holiday_file(write(tmp_path / "gbk.csv", GOOD_2031, encoding="gbk"))
    assert [n for n, _ in exc.value.errors] == [2, 3, 4, 5]
    assert "UTF-8" in exc.value.errors[0][1]


def test_missing_file_is_a_holiday_file_error(tmp_path):
    with pytest.raises(HolidayFileError, match="cannot read"):
        parse_holiday_file(tmp_path / "nope.csv")


# -- atomic loading -----------------------------------------------------------------------


def test_bad_file_leaves_the_previous_list_in_place(tmp_path):
    store = tmp_path / "holidays"
    cal = WorkingCalendar(holidays_dir=store)
    cal.load_year(write(tmp_path / "good.csv", GOOD_2031))
    before = (store / "2031.json").read_bytes()

    with pytest.raises(HolidayFileError):
        cal.load_year(write(tmp_path / "bad.csv", BAD_2031))

    assert (store / "2031.json").read_bytes() == before
    assert sorted(os.listdir(store)) == ["2031.json"]
    assert not cal.is_working_day(date(2031, 1, 1))
    assert WorkingCalendar(holidays_dir=store).holiday_name(date(2031, 1, 2)) == "元旦"


def test_failed_write_leaves_the_previous_list_and_no_temp_file(tmp_path, monkeypatch):
    cal = WorkingCalendar(holidays_dir=tmp_path / "holidays")
    cal.load_year(write(tmp_path / "good.csv", GOOD_2031))
    before = (tmp_path / "holidays" / "2031.json").read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        cal.load_year(YearCalendar(2031, {date(2031, 5, 1): "劳动节"}, {}))
    monkeypatch.undo()

    assert (tmp_path / "holidays" / "2031.json").read_bytes() == before
    assert sorted(os.listdir(tmp_path / "holidays")) == ["2031.json"]
    assert not cal.is_working_day(date(2031, 1, 1))
    assert cal.is_working_day(date(2031, 5, 1))  # a Thursday, the failed list was not used


def test_a_corrupt_stored_file_is_ignored_and_reported(tmp_path, caplog):
    (tmp_path / "2031.json").write_text("{not json", encoding="utf-8")
    cal = WorkingCalendar(holidays_dir=tmp_path)
    with caplog.at_level(logging.ERROR, logger="gonghui.calendar"):
        assert cal.source(2031) == "weekend-fallback"
        cal.source(2031)
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    assert "cannot be used" in cal.status(2031)["message"]
    assert cal.loaded_years() == []


# -- the example file ---------------------------------------------------------------------


def test_example_file_parses_and_is_never_loaded_automatically(tmp_path):
    example = parse_holiday_file(EXAMPLE / "example-2027.csv")
    assert example.year == 2027
    assert example.holidays and example.workdays
    assert WorkingCalendar(holidays_dir=EXAMPLE).loaded_years() == []
    # The same layout as deploy/holidays: only <year>.json files count.
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "example-2027.csv").write_bytes(
        (EXAMPLE / "example-2027.csv").read_bytes()
    )
    (tmp_path / "README.md").write_text("not data", encoding="utf-8")
    cal = WorkingCalendar(holidays_dir=tmp_path)
    assert cal.loaded_years() == []
    assert cal.source(2027) == "weekend-fallback"
