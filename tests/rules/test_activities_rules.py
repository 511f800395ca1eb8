"""The activities rules in plain Python: audiences, sign-up places, working-day schedules,
reminder windows, goals and the headline figures. No broker, no database."""

from datetime import date

import pytest

from gonghui.calendar import WorkingCalendar
from gonghui.errors import Conflict
from services.activities import rules

CALENDAR = WorkingCalendar()
DAY = date(2021, 6, 1)


def member(gender="female", unit_id=5, roles=(), joined_on=date(2020, 1, 1), left_on=None):
    return rules.MemberFacts(7, "李娜", gender, unit_id, joined_on, left_on, frozenset(roles))


@pytest.mark.parametrize("audience, person, refused", [
    (rules.Audience("all_staff"), member(), None),
    (rules.Audience("all_staff"), member(left_on=date(2021, 5, 1)), "not a member"),
    (rules.Audience("all_staff"), member(joined_on=date(2021, 6, 2)), "not a member"),
    (rules.Audience("subtree", frozenset({4, 5})), member(unit_id=5), None),
    (rules.Audience("subtree", frozenset({4}), label="神木光伏电站"), member(unit_id=5),
     "not in 神木光伏电站"),
    (rules.Audience("women"), member(gender="male"), "women workers"),
    (rules.Audience("women", frozenset({4})), member(unit_id=5), "not in"),
    (rules.Audience("women", frozenset({5})), member(unit_id=5), None),
    (rules.Audience("role", role="chair"), member(roles={(4, "chair")}), None),
    (rules.Audience("role", role="chair"), member(roles={(4, "cadre")}), "role chair"),
    (rules.Audience("role", frozenset({9}), role="chair"), member(roles={(4, "chair")}),
     "role chair"),
])
def test_audience(audience, person, refused):
    why = rules.audience_refusal(audience, person, DAY)
    if refused is None:
        assert why is None
    else:
        assert refused in why


def test_places_then_waiting_list():
    assert rules.signup_status(None, 10_000) == "confirmed"
    assert [rules.signup_status(2, n) for n in range(4)] == [
        "confirmed", "confirmed", "waitlisted", "waitlisted"]


def test_daily_exercise_meets_on_chinese_working_days_only():
    # National Day 2021: 1-7 October off; Saturday 9 October a make-up working day.
    days = rules.occurrences("daily", None, date(2021, 9, 27), None, date(2021, 9, 27),
                             date(2021, 10, 10), CALENDAR.is_working_day)
    assert days == [date(2021, 9, d) for d in (27, 28, 29, 30)] + [date(2021, 10, 8),
                                                                  date(2021, 10, 9)]


def test_weekly_club_skips_a_holiday_and_respects_its_dates():
    # Wednesdays of September-October 2021; 6 October falls in the National Day holiday.
    days = rules.occurrences("weekly", 2, date(2021, 9, 8), date(2021, 10, 20),
                             date(2021, 9, 1), date(2021, 12, 31), CALENDAR.is_working_day)
    assert days == [date(2021, 9, 8), date(2021, 9, 15), date(2021, 9, 22), date(2021, 9, 29),
                    date(2021, 10, 13), date(2021, 10, 20)]
    assert not rules.is_occurrence("weekly", 2, date(2021, 9, 8), None, date(2021, 9, 9),
                                   CALENDAR.is_working_day)


def test_upcoming_window_starts_the_working_day_before():
    # Monday 10 October 2022: the working day before is Sunday 9 October (a make-up day).
    held = date(2022, 10, 10)
    due = [d for d in (date(2022, 10, 7), date(2022, 10, 8), date(2022, 10, 9),
                       date(2022, 10, 10)) if rules.upcoming_due(held, d,
                                                                 CALENDAR.previous_working_day)]
    assert due == [date(2022, 10, 9)]
    # Tuesday 4 May 2021 (Labour Day holiday): from Friday 30 April on.
    held = date(2021, 5, 4)
    assert rules.upcoming_due(held, date(2021, 4, 30), CALENDAR.previous_working_day)
    assert rules.upcoming_due(held, date(2021, 5, 2), CALENDAR.previous_working_day)
    assert not rules.upcoming_due(held, date(2021, 4, 29), CALENDAR.previous_working_day)


def test_checkup_reminders_in_the_last_quarter_on_working_days():
    assert not rules.checkup_reminders_due(date(2021, 9, 30), CALENDAR.is_working_day)
    assert not rules.checkup_reminders_due(date(2021, 10, 1), CALENDAR.is_working_day)
    assert rules.checkup_reminders_due(date(2021, 10, 8), CALENDAR.is_working_day)
    assert rules.checkup_reminders_due(date(2021, 12, 31), CALENDAR.is_working_day)


def test_goal_results():
    assert rules.goal_result("checkup_coverage", 1.0, 0.98765) == {
        "actual": 0.9877, "met": False, "progress": 0.9877}
    assert rules.goal_result("activities_held", 12, 14) == {"actual": 14, "met": True,
                                                            "progress": 1.0}
    assert rules.goal_result("participants", 0, 0)["met"]


def test_headline_counts_attendance_based_rows():
    figures = {
        "activities": [{"kind": "match", "activities": 6}, {"kind": "fitness_event",
                                                            "activities": 8},
                       {"kind": "reading_session", "activities": 20},
                       {"kind": "womens_health", "activities": 5}],
        "facilities": [{"kind": "sports_venue", "opened": 17, "open": 18},
                       {"kind": "staff_library", "opened": 8, "open": 8},
                       {"kind": "reading_corner", "opened": 11, "open": 12},
                       {"kind": "mobile_bookshelf", "opened": 7, "open": 7}],
        "recurring": [{"kind": "reading_club", "occurrences": 4},
                      {"kind": "workplace_exercise", "occurrences": 90}],
        "units_with_daily_exercise": {"count": 5},
        "mental_health_lectures": 2,
        "checkups": {"coverage": 1.0},
    }
    assert rules.headline(figures) == {
        "sports_venues": 17, "sports_events": 14, "units_with_daily_exercise": 5,
        "libraries_and_reading_corners": 19, "mobile_bookshelves": 7, "reading_sessions": 24,
        "mental_health_lectures": 2, "womens_health_activities": 5, "checkup_coverage": 1.0}


@pytest.mark.parametrize("status, attended, step, refused", [
    ("scheduled", False, "sign_up", None),
    ("scheduled", False, "cancel", None),
    ("scheduled", True, "sign_up", "the activity has taken place"),
    ("scheduled", True, "cancel", "the activity took place: attendance is recorded"),
    ("scheduled", True, "record_attendance", None),
    ("scheduled", True, "cancel_signup", None),
    ("cancelled", False, "cancel", "the activity is already cancelled"),
    ("cancelled", False, "sign_up", "the activity is cancelled"),
    ("cancelled", False, "record_attendance", "the activity is cancelled"),
    ("cancelled", False, "record_amount_raised", "the activity is cancelled"),
    ("cancelled", False, "cancel_signup", "the activity is cancelled"),
])
def test_activity_flow(status, attended, step, refused):
    state = rules.activity_state(status, attended)
    if refused is None:
        rules.check_activity_step(state, step)
        return
    with pytest.raises(Conflict) as info:
        rules.check_activity_step(state, step)
    assert info.value.message == refused
    assert list(info.value.details) == ["activity_id"]


@pytest.mark.parametrize("status, step, refused", [
    (None, "sign_up", None), ("cancelled", "sign_up", None), ("waitlisted", "promote", None),
    ("confirmed", "cancel", None), ("waitlisted", "cancel", None),
    ("confirmed", "sign_up", "already confirmed"),
    ("waitlisted", "sign_up", "already waitlisted"),
    (None, "cancel", "not signed up"), ("cancelled", "cancel", "not signed up"),
])
def test_signup_flow(status, step, refused):
    if refused is None:
        rules.check_signup_step(status, step)
        return
    with pytest.raises(Conflict) as info:
        rules.check_signup_step(status, step)
    assert info.value.details == {"member_id": [refused]}


def test_facility_and_schedule_end():
    rules.check_facility_step("open", "close")
    with pytest.raises(Conflict) as info:
        rules.check_facility_step("closed", "close")
    assert info.value.details == {"facility_id": ["closed"]}
    rules.check_schedule_end(date(2021, 1, 4), None, date(2021, 6, 30))
    rules.check_schedule_end(date(2021, 1, 4), date(2021, 12, 31), date(2021, 6, 30))
    for ends_on, new, detail in [(date(2021, 6, 30), date(2021, 6, 30), "already ended"),
                                 (None, date(2021, 1, 3), "before starts_on")]:
        with pytest.raises(Conflict) as info:
            rules.check_schedule_end(date(2021, 1, 4), ends_on, new)
        assert info.value.details == {"ends_on": [detail]}
