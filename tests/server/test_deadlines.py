"""The working-day calendar and the clocks declared as data (WORKFLOWS.md), with the clock pinned: no waiting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.deadlines import (
    BeforeMonthDay,
    ByWeekday,
    CutOff,
    Due,
    Hours,
    SameDayWindow,
    WorkingDays,
    due,
)
from server.domain.workdays import EstateDay, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORK = WorkCalendar()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def wall(d: Due) -> str:
    return d.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def test_one_working_day_from_a_friday_is_the_monday() -> None:
    assert wall(due(WorkingDays(1), local("2026-11-27 16:00"), SHANGHAI)) == "2026-11-30 23:59"


def test_one_working_day_across_national_day_is_the_first_day_after_the_holiday() -> None:
    """1 October to 7 October 2026 are holidays: a complaint on 30 September is answered by 8 October."""
    assert wall(due(WorkingDays(1), local("2026-09-30 10:00"), SHANGHAI)) == "2026-10-08 23:59"


def test_a_make_up_saturday_counts_as_a_working_day() -> None:
    """Saturday 10 October 2026 is a make-up working day for the National Day holiday."""
    assert WORK.is_working_day(date(2026, 10, 10))
    assert wall(due(WorkingDays(1), local("2026-10-09 18:00"), SHANGHAI)) == "2026-10-10 23:59"
    assert wall(due(WorkingDays(1), local("2026-09-19 09:00"), SHANGHAI)) == "2026-09-20 23:59"  # a make-up Sunday


def test_working_days_with_a_time_of_day() -> None:
    assert wall(due(WorkingDays(3, by=time(17, 30)), local("2026-11-26 08:00"), SHANGHAI)) == "2026-12-01 17:30"


def test_an_estate_day_wins_over_the_national_schedule() -> None:
    """An estate closed for a typhoon on Monday: the Friday request is due on Tuesday."""
    closed = WorkCalendar.of([EstateDay(date(2026, 11, 30), working=False, name="台风停工")])
    assert wall(due(WorkingDays(1), local("2026-11-27 16:00"), SHANGHAI, closed)) == "2026-12-01 23:59"
    opened = WorkCalendar.of([EstateDay(date(2026, 10, 2), working=True)])
    assert opened.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 2)


def test_a_year_without_a_published_schedule_falls_back_to_weekdays_and_says_so() -> None:
    """2027's holidays are not in the library yet: Monday–Friday, and `known` is False until entered by hand."""
    assert not WORK.known(date(2027, 1, 1))
    assert WORK.is_working_day(date(2027, 1, 1))  # a Friday, guessed
    assert WORK.unknown_days(date(2026, 12, 31), date(2027, 1, 2)) == [date(2027, 1, 1), date(2027, 1, 2)]
    entered = WorkCalendar.of([EstateDay(date(2027, 1, 1), working=False, name="元旦")])
    assert entered.known(date(2027, 1, 1))
    assert entered.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_callback_window_19_to_22_the_same_day_or_the_next() -> None:
    window = SameDayWindow(time(19), time(22))
    before = due(window, local("2026-11-30 17:30"), SHANGHAI)
    assert wall(before) == "2026-11-30 22:00"
    assert before.opens == local("2026-11-30 19:00").astimezone(UTC)
    assert not before.open_at(local("2026-11-30 18:59").astimezone(UTC))
    assert before.open_at(local("2026-11-30 19:00").astimezone(UTC))
    after = due(window, local("2026-11-30 22:10"), SHANGHAI)
    assert wall(after) == "2026-12-01 22:00"


def test_cleaning_return_before_22_the_same_day_else_by_10_the_next() -> None:
    rule = CutOff(time(22), time(10))
    assert wall(due(rule, local("2026-11-30 21:59"), SHANGHAI)) == "2026-11-30 22:00"
    assert wall(due(rule, local("2026-11-30 22:00"), SHANGHAI)) == "2026-12-01 10:00"
    late = due(rule, local("2026-11-30 23:30"), SHANGHAI)
    assert late.late(local("2026-12-01 10:01").astimezone(UTC))
    assert not late.late(local("2026-12-01 09:59").astimezone(UTC))


@pytest.mark.parametrize(
    ("start", "expected"),
    [("2026-11-25 09:00", "2026-11-27"), ("2026-11-27 20:00", "2026-11-27"), ("2026-11-28 09:00", "2026-12-04")],
)
def test_by_friday(start: str, expected: str) -> None:
    assert wall(due(ByWeekday(4), local(start), SHANGHAI)) == f"{expected} 23:59"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-11-03 09:00", "2026-11-29"),
        ("2026-11-30 09:00", "2026-12-29"),  # on the 30th itself: next month's
        ("2026-02-10 09:00", "2026-02-28"),  # February has no 30th: by its last day
        ("2026-12-30 09:00", "2027-01-29"),
    ],
)
def test_before_the_30th(start: str, expected: str) -> None:
    assert wall(due(BeforeMonthDay(30), local(start), SHANGHAI)) == f"{expected} 23:59"


def test_hours_run_on_the_clock() -> None:
    start = local("2026-11-30 23:00")
    assert due(Hours(2), start, SHANGHAI).at == start.astimezone(UTC) + timedelta(hours=2)


def test_every_clock_has_a_text_in_both_languages() -> None:
    clocks = [WorkingDays(1), SameDayWindow(time(19), time(22)), CutOff(time(22), time(10)), ByWeekday(4)]
    clocks += [BeforeMonthDay(30), Hours(4)]
    for clock in clocks:
        zh, en = clock.text()
        assert zh and en and zh != en


@given(st.dates(date(2004, 1, 1), date(2026, 12, 20)), st.integers(1, 15))
def test_counting_working_days_agrees_with_the_calendar(start: date, count: int) -> None:
    found = WORK.add_working_days(start, count)
    assert WORK.is_working_day(found)
    assert WORK.working_days_between(start, found) == count
    assert WORK.first_working_day(found) == found
