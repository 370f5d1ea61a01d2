"""Deadline arithmetic against the published 2026 schedule and the 2027 estimate.

Dates below were read from chinese_calendar 1.11's data, not assumed:
2026 国庆 rests 10-01..10-07 with make-up working days 09-20 (Sun) and 10-10 (Sat);
2026 春节 rests 02-15..02-23 with make-up working days 02-14 (Sat) and 02-28 (Sat).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from orchestration.domain.calendar import SHANGHAI, DayInfo, WorkingCalendar


def sh(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- day status ---------------------------------------------------------------


def test_matches_chinese_calendar_for_every_published_day(cal: WorkingCalendar) -> None:
    day = date(2004, 1, 1)
    mismatches = []
    while day <= date(2026, 12, 31):
        if cal.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


def test_national_day_2026_and_its_makeup_weekend(cal: WorkingCalendar) -> None:
    for d in range(1, 8):
        info = cal.day_info(date(2026, 10, d))
        assert info == DayInfo(date(2026, 10, d), False, "official", "国庆节")
    # The weekend around it: Sun 09-20 and Sat 10-10 are worked, Sun 10-11 is not.
    assert cal.day_info(date(2026, 9, 20)).is_working is True
    assert cal.day_info(date(2026, 9, 20)).source == "official"
    assert cal.is_working_day(date(2026, 10, 10)) is True
    assert cal.is_working_day(date(2026, 10, 11)) is False
    assert cal.is_working_day(date(2026, 10, 8)) is True
    # 中秋 on Fri 09-25, ahead of an ordinary weekend.
    assert cal.day_info(date(2026, 9, 25)) == DayInfo(date(2026, 9, 25), False, "official", "中秋节")


def test_spring_festival_2026_with_makeup_saturday(cal: WorkingCalendar) -> None:
    assert all(not cal.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert cal.day_info(date(2026, 2, 17)).name == "春节"
    makeup = cal.day_info(date(2026, 2, 14))
    assert date(2026, 2, 14).weekday() == 5
    assert makeup.is_working is True
    assert makeup.source == "official"
    assert cal.is_working_day(date(2026, 2, 28)) is True
    assert cal.is_working_day(date(2026, 2, 24)) is True


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "元旦"),
        (date(2026, 4, 5), "清明节"),
        (date(2026, 5, 1), "劳动节"),
        (date(2026, 6, 19), "端午节"),
        (date(2027, 2, 5), "春节"),  # 除夕, estimate via `holidays`
        (date(2027, 5, 1), "劳动节"),
        (date(2027, 10, 1), "国庆节"),
    ],
)
def test_holiday_names_are_chinese(cal: WorkingCalendar, day: date, name: str) -> None:
    info = cal.day_info(day)
    assert info.is_working is False
    assert info.name == name


def test_ordinary_weekend_and_weekday_have_no_name(cal: WorkingCalendar) -> None:
    assert cal.day_info(date(2026, 3, 7)) == DayInfo(date(2026, 3, 7), False, "official", None)
    assert cal.day_info(date(2026, 3, 4)) == DayInfo(date(2026, 3, 4), True, "official", None)


# -- add_days -----------------------------------------------------------------


def test_three_days_ending_on_weekend_moves_to_monday(cal: WorkingCalendar) -> None:
    # Wed 03-04 + 3 = Sat 03-07 -> Mon 03-09.
    assert cal.add_days(sh(2026, 3, 4), 3) == end_of(2026, 3, 9)


def test_three_days_ending_on_makeup_saturday_is_not_moved(cal: WorkingCalendar) -> None:
    assert cal.add_days(sh(2026, 10, 7), 3) == end_of(2026, 10, 10)
    assert cal.add_days(sh(2026, 2, 11), 3) == end_of(2026, 2, 14)


def test_days_ending_inside_national_day_move_past_it(cal: WorkingCalendar) -> None:
    assert cal.add_days(sh(2026, 9, 28), 5) == end_of(2026, 10, 8)


def test_start_day_is_not_counted_and_deadline_is_end_of_day(cal: WorkingCalendar) -> None:
    result = cal.add_days(sh(2026, 3, 2, 23, 59), 1)
    assert result == end_of(2026, 3, 3)
    assert result.tzinfo is SHANGHAI
    assert (result.hour, result.minute, result.second) == (23, 59, 59)


def test_zero_days_on_rest_day_still_extends(cal: WorkingCalendar) -> None:
    assert cal.add_days(sh(2026, 3, 2), 0) == end_of(2026, 3, 2)
    assert cal.add_days(sh(2026, 3, 7), 0) == end_of(2026, 3, 9)


def test_utc_late_evening_is_already_next_day_in_shanghai(cal: WorkingCalendar) -> None:
    # 20:00 UTC Tue 03-03 is 04:00 Wed 03-04 in Shanghai: day 0 is the 4th.
    start = datetime(2026, 3, 3, 20, 0, tzinfo=UTC)
    assert cal.add_days(start, 3) == end_of(2026, 3, 9)
    # 15:59 UTC is still the 3rd in Shanghai (23:59): +3 = Fri 03-06.
    assert cal.add_days(datetime(2026, 3, 3, 15, 59, tzinfo=UTC), 3) == end_of(2026, 3, 6)
    assert cal.add_working_days(start, 1) == end_of(2026, 3, 5)


def test_other_offsets_are_converted(cal: WorkingCalendar) -> None:
    new_york = timezone(timedelta(hours=-5))
    # 12:00 -05:00 on 03-03 is 01:00 on 03-04 in Shanghai.
    assert cal.add_days(datetime(2026, 3, 3, 12, 0, tzinfo=new_york), 1) == end_of(2026, 3, 5)


# -- add_working_days ---------------------------------------------------------


def test_five_working_days_across_national_day(cal: WorkingCalendar) -> None:
    # 09-30 (1), holiday 10-01..07, 10-08 (2), 10-09 (3), Sat 10-10 make-up (4), 10-12 (5).
    assert cal.add_working_days(sh(2026, 9, 29), 5) == end_of(2026, 10, 12)


def test_five_working_days_across_spring_festival(cal: WorkingCalendar) -> None:
    # 02-13 (1), Sat 02-14 make-up (2), holiday 02-15..23, 02-24 (3), 02-25 (4), 02-26 (5).
    assert cal.add_working_days(sh(2026, 2, 12), 5) == end_of(2026, 2, 26)


def test_one_working_day_from_friday_is_monday(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(sh(2026, 3, 6), 1) == end_of(2026, 3, 9)


def test_working_days_spanning_many_years(cal: WorkingCalendar) -> None:
    expected = chinese_calendar.get_workdays(date(2024, 1, 2), date(2026, 12, 31))[499]
    assert cal.add_working_days(sh(2024, 1, 1), 500) == end_of(expected.year, expected.month, expected.day)


# -- add_months ---------------------------------------------------------------


def test_month_without_corresponding_day_ends_on_last_day(cal: WorkingCalendar) -> None:
    # 2026-02-28 is a make-up Saturday, so no extension.
    assert cal.add_months(sh(2026, 1, 31), 1) == end_of(2026, 2, 28)
    # 2027-02-28 is a Sunday (estimated year): extended to Mon 03-01.
    assert cal.add_months(sh(2027, 1, 31), 1) == end_of(2027, 3, 1)
    # Leap year: Tue 2028-02-29.
    assert cal.add_months(sh(2028, 1, 31), 1) == end_of(2028, 2, 29)


def test_add_months_crosses_year_and_extends_over_holiday(cal: WorkingCalendar) -> None:
    # 11-30 + 3 months -> 2026-02-28, the make-up Saturday: a working day, kept.
    assert cal.add_months(sh(2025, 11, 30), 3) == end_of(2026, 2, 28)
    # 2026-08-01 + 2 months = 10-01 (国庆) -> 10-08.
    assert cal.add_months(sh(2026, 8, 1), 2) == end_of(2026, 10, 8)
    assert cal.add_months(sh(2026, 3, 4), 12) == end_of(2027, 3, 4)


# -- beyond the published data -------------------------------------------------


def test_year_end_into_estimated_2027(cal: WorkingCalendar) -> None:
    assert cal.is_estimated(2026) is False
    assert cal.is_estimated(2027) is True
    new_year = cal.day_info(date(2027, 1, 1))
    assert new_year == DayInfo(date(2027, 1, 1), False, "estimate", "元旦")
    # Tue 12-29 + 3 = Fri 2027-01-01 (元旦) -> weekend -> Mon 01-04.
    start = sh(2026, 12, 29)
    deadline = cal.add_days(start, 3)
    assert deadline == end_of(2027, 1, 4)
    assert cal.estimated_between(start, deadline) is True
    assert cal.estimated_between(sh(2026, 12, 1), sh(2026, 12, 31, 23, 59)) is False
    # Thu 12-31 (1), 元旦, Mon 01-04 (2), Tue 01-05 (3).
    assert cal.add_working_days(sh(2026, 12, 30), 3) == end_of(2027, 1, 5)


def test_estimate_uses_statutory_substitutes_but_no_makeup_days(cal: WorkingCalendar) -> None:
    # 春节 2027 falls partly on a weekend; the statutory substitute days are rest.
    assert cal.is_working_day(date(2027, 2, 9)) is False
    assert cal.day_info(date(2027, 2, 9)).source == "estimate"
    # No 调休 known: every 2027 weekend day is rest.
    day = date(2027, 1, 1)
    while day.year == 2027:
        if day.weekday() >= 5:
            assert cal.is_working_day(day) is False, day
        day += timedelta(days=1)


def test_estimated_between_uses_shanghai_dates(cal: WorkingCalendar) -> None:
    # 16:30 UTC on 2026-12-31 is already 2027-01-01 in Shanghai.
    late = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert cal.estimated_between(sh(2026, 12, 1), late) is True
    assert cal.estimated_between(sh(2026, 12, 1), datetime(2026, 12, 31, 15, 30, tzinfo=UTC)) is False


def test_years_before_the_data_are_estimated(cal: WorkingCalendar) -> None:
    assert cal.is_estimated(2003) is True
    assert cal.day_info(date(2003, 10, 1)).source == "estimate"


# -- administrator's table ------------------------------------------------------


def test_admin_override_wins_over_libraries() -> None:
    cal = WorkingCalendar(
        overrides={date(2027, 2, 20): True, date(2027, 3, 3): False, date(2026, 10, 1): True}
    )
    saturday = cal.day_info(date(2027, 2, 20))
    assert date(2027, 2, 20).weekday() == 5
    assert saturday.is_working is True
    assert saturday.source == "admin"
    wednesday = cal.day_info(date(2027, 3, 3))
    assert (wednesday.is_working, wednesday.source) == (False, "admin")
    # Even an official holiday yields to the administrator; its name stays.
    assert cal.day_info(date(2026, 10, 1)) == DayInfo(date(2026, 10, 1), True, "admin", "国庆节")
    # Periods honour the overrides: Wed 02-17 + 3 = Sat 02-20, now a working day.
    assert cal.add_days(sh(2027, 2, 17), 3) == end_of(2027, 2, 20)
    # Mon 03-01 + 2 = Wed 03-03, now rest -> Thu 03-04.
    assert cal.add_days(sh(2027, 3, 1), 2) == end_of(2027, 3, 4)
    # Single overrides don't make a year official.
    assert cal.is_estimated(2027) is True
    assert cal.day_info(date(2027, 3, 10)).source == "estimate"


def test_official_years_remove_the_estimate_flag() -> None:
    cal = WorkingCalendar(overrides={date(2027, 2, 20): True}, official_years=[2027])
    assert cal.is_estimated(2027) is False
    assert cal.is_estimated(2028) is True
    assert cal.estimated_between(sh(2026, 12, 29), sh(2027, 12, 31)) is False
    assert cal.estimated_between(sh(2026, 12, 29), sh(2028, 1, 3)) is True
    assert cal.day_info(date(2027, 3, 10)).source == "admin"
    assert cal.is_working_day(date(2027, 2, 20)) is True
    # Statutory holidays still rest; the library's guessed substitute day does
    # not, because the loaded notice decides the arrangement.
    assert cal.day_info(date(2027, 10, 1)).is_working is False
    assert cal.is_working_day(date(2027, 2, 9)) is True


def test_overrides_do_not_leak_between_instances() -> None:
    WorkingCalendar(overrides={date(2026, 3, 4): False})
    assert WorkingCalendar().is_working_day(date(2026, 3, 4)) is True


def test_datetime_override_key_rejected() -> None:
    with pytest.raises(TypeError, match="date"):
        WorkingCalendar(overrides={datetime(2027, 2, 20, tzinfo=SHANGHAI): True})


# -- input validation ------------------------------------------------------------


@pytest.mark.parametrize("method", ["add_days", "add_working_days", "add_months"])
def test_naive_datetime_rejected(cal: WorkingCalendar, method: str) -> None:
    with pytest.raises(ValueError, match="时区"):
        getattr(cal, method)(datetime(2026, 3, 4, 10, 0), 3)


def test_naive_datetime_rejected_in_estimated_between(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="时区"):
        cal.estimated_between(datetime(2026, 3, 4), sh(2026, 3, 5))


def test_plain_date_rejected_as_start(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        cal.add_days(date(2026, 3, 4), 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "n"), [("add_days", -1), ("add_months", -1), ("add_working_days", 0)])
def test_bad_counts_rejected(cal: WorkingCalendar, method: str, n: int) -> None:
    with pytest.raises(ValueError, match="期间"):
        getattr(cal, method)(sh(2026, 3, 4), n)


@pytest.mark.parametrize("n", [1.5, True, "3"])
def test_non_integer_counts_rejected(cal: WorkingCalendar, n: object) -> None:
    with pytest.raises(ValueError, match="整数"):
        cal.add_days(sh(2026, 3, 4), n)  # type: ignore[arg-type]
