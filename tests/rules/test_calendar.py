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

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "holidays" / "examples"

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
    # The holiday-cn example holds the same made-up days.
    assert parse_holiday_file(EXAMPLE / "example-2027.json") == example
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


# -- next year's holidays: the warning health shows ----------------------------------------


def known_2030(store):
    cal = WorkingCalendar(holidays_dir=store)
    cal.load_year(YearCalendar(2030, {date(2030, 1, 1): "元旦"}, {}))
    return cal


def test_next_year_is_not_mentioned_before_1_december(tmp_path):
    cal = known_2030(tmp_path)
    for day in (date(2030, 1, 1), date(2030, 6, 30), date(2030, 11, 30)):
        assert cal.holiday_warnings(day) == [], day


def test_from_1_december_a_missing_next_year_is_a_warning_naming_year_and_command(tmp_path):
    cal = known_2030(tmp_path)
    for day in (date(2030, 12, 1), date(2030, 12, 31), datetime(2030, 12, 15, 23, 59)):
        [warning] = cal.holiday_warnings(day)
        assert warning == {
            "check": "holidays",
            "year": 2031,
            "source": "weekend-fallback",
            "command": "gonghui holidays load FILE",
            "message": warning["message"],
        }
        assert warning["message"].startswith("Public holidays of 2031 are not loaded yet")
        assert "weekends only" in warning["message"]
        assert "`gonghui holidays load FILE`" in warning["message"]
    cal.load_year(YearCalendar(2031, {date(2031, 1, 1): "元旦"}, {}))
    assert cal.holiday_warnings(date(2030, 12, 1)) == []


def test_a_next_year_the_package_knows_is_no_warning():
    cal = WorkingCalendar()
    assert cal.holiday_warnings(date(2024, 12, 1)) == []  # 2025 is in chinesecalendar
    assert cal.holiday_warnings(date(2025, 12, 31)) == []


def test_a_current_year_not_known_is_a_warning_all_year(tmp_path):
    # The December warning must not go quiet on 1 January when nobody loaded the year.
    cal = WorkingCalendar(holidays_dir=tmp_path)
    [warning] = cal.holiday_warnings(date(2031, 3, 1))
    assert warning["year"] == 2031
    assert warning["message"].startswith("Public holidays of 2031 are not known")
    assert [w["year"] for w in cal.holiday_warnings(date(2031, 12, 1))] == [2031, 2032]


def test_an_unusable_stored_next_year_is_a_warning_with_its_reason(tmp_path):
    cal = known_2030(tmp_path)
    (tmp_path / "2031.json").write_text("{not json", encoding="utf-8")
    [warning] = cal.holiday_warnings(date(2030, 12, 1))
    assert warning["year"] == 2031
    assert f"The list in {tmp_path / '2031.json'} cannot be used" in warning["message"]


def test_the_warning_reads_no_clock(tmp_path, monkeypatch):
    import gonghui.clock

    def no_clock():
        raise AssertionError("holiday_warnings read the clock")

    monkeypatch.setattr(gonghui.clock, "today", no_clock)
    assert known_2030(tmp_path).holiday_warnings(date(2030, 11, 30)) == []
    with pytest.raises(TypeError):
        known_2030(tmp_path).holiday_warnings("2030-12-01")


# -- the holiday-cn JSON layout -----------------------------------------------------------


def holiday_cn(year, days, **extra):
    return json.dumps(
        {"$schema": "https://example.invalid/schema.json", "year": year,
         "papers": ["https://www.gov.cn/..."], **extra,
         "days": [{"name": n, "date": d, "isOffDay": off} for n, d, off in days]},
        ensure_ascii=False, indent=4,
    )


# 2031-01-01 Wednesday to 03 Friday off, Saturday 04 worked; 2031-01-25/26 a weekend.
GOOD_2031_JSON = holiday_cn(2031, [
    ("元旦", "2031-01-01", True),
    ("元旦", "2031-01-02", True),
    ("元旦", "2031-01-03", True),
    ("元旦", "2031-01-04", False),
    ("春节", "2031-01-26", True),
])


def test_holiday_cn_json_loads_like_the_csv(tmp_path):
    store = tmp_path / "holidays"
    cal = WorkingCalendar(holidays_dir=store)
    loaded = cal.load_year(write(tmp_path / "2031.json", GOOD_2031_JSON, encoding="utf-8-sig"))
    assert loaded == YearCalendar(
        2031,
        {date(2031, 1, 1): "元旦", date(2031, 1, 2): "元旦", date(2031, 1, 3): "元旦",
         date(2031, 1, 26): "春节"},
        {date(2031, 1, 4): "元旦"},
    )
    assert cal.source(2031) == "operator"
    assert not cal.is_working_day(date(2031, 1, 2))
    assert cal.is_working_day(date(2031, 1, 4))  # the worked Saturday
    assert cal.holiday_name(date(2031, 1, 26)) == "春节"
    assert cal.is_working_day(date(2031, 1, 6))  # not listed: the week's rule
    assert sorted(os.listdir(store)) == ["2031.json"]
    # The same year as CSV gives the same calendar; the CSV layout still loads.
    as_csv = write(tmp_path / "2031.csv", format_holiday_file(loaded))
    assert parse_holiday_file(as_csv) == loaded


BAD_2031_JSON = """{
    "year": 2031,
    "days": [
        {"name": "元旦", "date": "2031-01-01", "isOffDay": true},
        {"name": "春节", "date": "2031-02-30", "isOffDay": true},
        {"name": "春节", "date": "2031-01-27", "isOffDay": false},
        {"name": "元旦", "date": "2031-01-01", "isOffDay": true},
        {"name": "端午", "date": "2032-06-01", "isOffDay": true},
        {"name": "清明", "date": "2031-04-05", "isOffDay": "true"},
        {"name": "劳动节", "isOffDay": true},
        "2031-05-01",
        {"name": 5, "date": "2031-05-02", "isOffDay": true},
        {"name": "国庆节", "date": "20311001", "isOffDay": true}
    ]
}"""


def test_bad_holiday_cn_json_names_every_problem_and_loads_nothing(tmp_path):
    store = tmp_path / "holidays"
    cal = WorkingCalendar(holidays_dir=store)
    cal.load_year(write(tmp_path / "good.json", GOOD_2031_JSON))
    before = (store / "2031.json").read_bytes()

    with pytest.raises(HolidayFileError) as exc:
        cal.load_year(write(tmp_path / "bad.json", BAD_2031_JSON))
    expected = {  # where -> what the reason says; days[0] is good
        "days[1]": ["bad date '2031-02-30'"],
        "days[2]": ["2031-01-27 is a Monday", "Saturday or Sunday"],
        "days[3]": ["2031-01-01 is already listed at days[0]"],
        "days[4]": ["2032-06-01 is in 2032, but this file is for 2031"],
        "days[5]": ["isOffDay must be true (a day off) or false", "'true'"],
        "days[6]": ["no date"],
        "days[7]": ["expected an object with name, date and isOffDay"],
        "days[8]": ["name must be text"],
        "days[9]": ["bad date '20311001'"],
    }
    reasons = dict(reason.split(": ", 1) for _, reason in exc.value.errors)
    assert list(reasons) == list(expected)
    for where, phrases in expected.items():
        assert all(phrase in reasons[where] for phrase in phrases), (where, reasons[where])
    text = str(exc.value)
    assert text.startswith(f"holiday file {tmp_path / 'bad.json'} has 9 problems; nothing")
    assert "\ndays[1]: bad date" in text

    # All or nothing: the good rows of the bad file were not taken, the old list stands.
    assert (store / "2031.json").read_bytes() == before
    assert sorted(os.listdir(store)) == ["2031.json"]
    assert cal.is_working_day(date(2031, 5, 2))  # a Friday the bad file called a day off


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"year": 2031, "days": [', "is not valid JSON: Expecting value at line 1 column 25"),
        ("[]", 'must be a JSON object with "year" and "days"'),
        ('{"days": [{"name": "元旦", "date": "2031-01-01", "isOffDay": true}]}',
         '"year" must be a whole number such as 2027, found None'),
        ('{"year": "2031", "days": []}', '"year" must be a whole number'),
        ('{"year": 2031, "days": []}', '"days" is empty'),
        ('{"year": 2031}', '"days" must be a list of {"name", "date", "isOffDay"}'),
    ],
)
def test_a_file_that_is_not_a_holiday_cn_year_is_refused(tmp_path, text, expected):
    cal = WorkingCalendar(holidays_dir=tmp_path / "holidays")
    with pytest.raises(HolidayFileError) as exc:
        cal.load_year(write(tmp_path / "year.json", text))
    assert expected in str(exc.value)
    assert cal.loaded_years() == []


def test_december_days_of_the_notice_are_taken_only_when_they_change_nothing(tmp_path):
    # holiday-cn's 2019 file lists the 2019 notice's days of December 2018 too: the package
    # already knows them (29th worked, 30th and 31st off), so the file loads as it is.
    cal = WorkingCalendar(holidays_dir=tmp_path / "holidays")
    loaded = cal.load_year(write(tmp_path / "2019.json", holiday_cn(2019, [
        ("元旦", "2018-12-29", False),
        ("元旦", "2018-12-30", True),
        ("元旦", "2018-12-31", True),
        ("元旦", "2019-01-01", True),
    ])))
    assert loaded == YearCalendar(2019, {date(2019, 1, 1): "元旦"}, {})
    assert cal.loaded_years() == [2019]
    assert cal.source(2018) == "chinese_calendar"

    # For 2031 the calendar of 2030 answers otherwise: the day belongs in 2030's list.
    with pytest.raises(HolidayFileError) as exc:
        cal.load_year(write(tmp_path / "2031.json", holiday_cn(2031, [
            ("元旦", "2030-12-31", True),
            ("元旦", "2030-12-28", True),  # a Saturday, off anyway: no change, accepted
            ("元旦", "2031-01-01", True),
        ])))
    [(_, reason)] = exc.value.errors
    assert reason.startswith("days[0]: 2030-12-31 is in December 2030 (from the notice for")
    assert "(weekend-fallback) says it is a working day" in reason
    assert "load a complete list for 2030 with this day first" in reason
    assert cal.loaded_years() == [2019]


def test_a_holiday_cn_file_copied_into_the_directory_is_reported_not_used(tmp_path):
    (tmp_path / "2031.json").write_text(GOOD_2031_JSON, encoding="utf-8")
    cal = WorkingCalendar(holidays_dir=tmp_path)
    assert cal.source(2031) == "weekend-fallback"
    assert "copied in by hand" in cal.status(2031)["message"]
    assert "gonghui holidays load FILE" in cal.status(2031)["message"]


def test_gonghui_holidays_load_takes_json_and_csv_and_says_what_is_wrong(
        tmp_path, monkeypatch, capsys):
    from deploy import cli

    store = tmp_path / "holidays"
    monkeypatch.setenv("HOLIDAYS_DIR", str(store))
    assert cli.main(["holidays", "load", str(write(tmp_path / "bad.json", BAD_2031_JSON))]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "has 9 problems; nothing was loaded" in err and "days[1]: bad date" in err
    assert not store.exists() or os.listdir(store) == []

    assert cli.main(["holidays", "load", str(write(tmp_path / "y.json", GOOD_2031_JSON))]) == 0
    assert capsys.readouterr().out == "loaded 2031: 4 holidays, 1 make-up working days\n"
    assert cli.main(["holidays", "status", "2031"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "operator"

    csv_2032 = "date,kind,name\n2032-01-01,holiday,元旦\n2032-01-03,workday,元旦\n"
    assert cli.main(["holidays", "load", str(write(tmp_path / "2032.csv", csv_2032))]) == 0
    assert capsys.readouterr().out == "loaded 2032: 1 holidays, 1 make-up working days\n"
    assert WorkingCalendar(store).loaded_years() == [2031, 2032]
