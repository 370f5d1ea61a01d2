"""WorkingCalendar against the State Council's own holiday notices for 2025 and 2026.

test_calendar.py takes chinese_calendar as its oracle, the very data WorkingCalendar is built from, so a
misread of that data or a wrong package release would pass there.  The table here is transcribed by hand
from the notices, each item quoted above its rows, and every expected deadline below is counted by hand
from the table; nothing here asks chinese_calendar or holidays.

Sources (Xinhua's full text, as republished by 光明网):
* 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）
  https://m.gmw.cn/2024-11/12/content_1303894933.htm
* 国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）
  https://politics.gmw.cn/2025-11/04/content_38391083.htm
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import pytest

from orchestration.domain.calendar import SHANGHAI, WorkingCalendar


class RestSpan(NamedTuple):
    """One 放假 item: its days, with the weekdays and 共N天 the notice prints alongside them."""

    note: str
    first: date
    first_weekday: str
    last: date
    last_weekday: str
    days: int


class MakeupDay(NamedTuple):
    """A 调休 weekend day the notice declares a working day (上班)."""

    day: date
    weekday: str
    note: str


REST_SPANS: tuple[RestSpan, ...] = (
    # 2025 — 一、元旦：1月1日（周三）放假1天，不调休。
    RestSpan("元旦", date(2025, 1, 1), "周三", date(2025, 1, 1), "周三", 1),
    # 二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。
    RestSpan("春节", date(2025, 1, 28), "周二", date(2025, 2, 4), "周二", 8),
    # 三、清明节：4月4日（周五）至6日（周日）放假，共3天。
    RestSpan("清明节", date(2025, 4, 4), "周五", date(2025, 4, 6), "周日", 3),
    # 四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。
    RestSpan("劳动节", date(2025, 5, 1), "周四", date(2025, 5, 5), "周一", 5),
    # 五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
    RestSpan("端午节", date(2025, 5, 31), "周六", date(2025, 6, 2), "周一", 3),
    # 六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。
    RestSpan("国庆节、中秋节", date(2025, 10, 1), "周三", date(2025, 10, 8), "周三", 8),
    # 2026 — 一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。
    RestSpan("元旦", date(2026, 1, 1), "周四", date(2026, 1, 3), "周六", 3),
    # 二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    RestSpan("春节", date(2026, 2, 15), "周日", date(2026, 2, 23), "周一", 9),
    # 三、清明节：4月4日（周六）至6日（周一）放假，共3天。
    RestSpan("清明节", date(2026, 4, 4), "周六", date(2026, 4, 6), "周一", 3),
    # 四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。
    RestSpan("劳动节", date(2026, 5, 1), "周五", date(2026, 5, 5), "周二", 5),
    # 五、端午节：6月19日（周五）至21日（周日）放假，共3天。
    RestSpan("端午节", date(2026, 6, 19), "周五", date(2026, 6, 21), "周日", 3),
    # 六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
    RestSpan("中秋节", date(2026, 9, 25), "周五", date(2026, 9, 27), "周日", 3),
    # 七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。
    RestSpan("国庆节", date(2026, 10, 1), "周四", date(2026, 10, 7), "周三", 7),
)

MAKEUP_DAYS: tuple[MakeupDay, ...] = (
    # 2025 春节：……1月26日（周日）、2月8日（周六）上班。
    MakeupDay(date(2025, 1, 26), "周日", "春节调休"),
    MakeupDay(date(2025, 2, 8), "周六", "春节调休"),
    # 2025 劳动节：……4月27日（周日）上班。
    MakeupDay(date(2025, 4, 27), "周日", "劳动节调休"),
    # 2025 国庆节、中秋节：……9月28日（周日）、10月11日（周六）上班。
    MakeupDay(date(2025, 9, 28), "周日", "国庆节、中秋节调休"),
    MakeupDay(date(2025, 10, 11), "周六", "国庆节、中秋节调休"),
    # 2026 元旦：……1月4日（周日）上班。
    MakeupDay(date(2026, 1, 4), "周日", "元旦调休"),
    # 2026 春节：……2月14日（周六）、2月28日（周六）上班。
    MakeupDay(date(2026, 2, 14), "周六", "春节调休"),
    MakeupDay(date(2026, 2, 28), "周六", "春节调休"),
    # 2026 劳动节：……5月9日（周六）上班。
    MakeupDay(date(2026, 5, 9), "周六", "劳动节调休"),
    # 2026 国庆节：……9月20日（周日）、10月10日（周六）上班。
    MakeupDay(date(2026, 9, 20), "周日", "国庆节调休"),
    MakeupDay(date(2026, 10, 10), "周六", "国庆节调休"),
)

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _rest_days() -> dict[date, str]:
    days: dict[date, str] = {}
    for span in REST_SPANS:
        day = span.first
        while day <= span.last:
            days[day] = span.note
            day += timedelta(days=1)
    return days


REST_DAYS: dict[date, str] = _rest_days()
MAKEUP: dict[date, str] = {m.day: m.note for m in MAKEUP_DAYS}


def oracle_is_working(day: date) -> bool:
    return day in MAKEUP or (day.weekday() < 5 and day not in REST_DAYS)


def at_ten(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=SHANGHAI)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- the table itself -------------------------------------------------------------


def test_table_agrees_with_the_weekdays_and_lengths_the_notices_print() -> None:
    # The notices print a weekday next to every date and a 共N天 for every span: a mistyped date in the
    # table contradicts them.
    assert len(REST_SPANS) == 13
    for span in REST_SPANS:
        assert WEEKDAY_NAMES[span.first.weekday()] == span.first_weekday, span
        assert WEEKDAY_NAMES[span.last.weekday()] == span.last_weekday, span
        assert (span.last - span.first).days + 1 == span.days, span
    assert len(REST_DAYS) == (1 + 8 + 3 + 5 + 3 + 8) + (3 + 9 + 3 + 5 + 3 + 3 + 7)
    assert len(MAKEUP_DAYS) == (2 + 1 + 2) + (1 + 2 + 1 + 2)
    for makeup in MAKEUP_DAYS:
        assert WEEKDAY_NAMES[makeup.day.weekday()] == makeup.weekday, makeup
        assert makeup.day.weekday() >= 5, makeup
        assert makeup.day not in REST_DAYS, makeup


# -- (a) every day of both years ---------------------------------------------------


def test_every_day_of_2025_and_2026_matches_the_notices(cal: WorkingCalendar) -> None:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(730)]
    assert (days[0], days[-1]) == (date(2025, 1, 1), date(2026, 12, 31))
    mismatches = [
        (day, REST_DAYS.get(day) or MAKEUP.get(day), oracle_is_working(day))
        for day in days
        if cal.is_working_day(day) != oracle_is_working(day)
    ]
    assert mismatches == []


# -- (b) deadlines counted by hand from the table -------------------------------------
# Start at 10:00 on the first date; day 0 is not counted; the answer is the end of the last day.


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Fri 01-24 +5 = Wed 01-29, inside 春节 01-28..02-04 -> Wed 02-05.
        pytest.param(date(2025, 1, 24), 5, date(2025, 2, 5), id="2025-spring-inside"),
        # Sat 01-25 +10 = Tue 02-04, 春节's last day -> Wed 02-05.
        pytest.param(date(2025, 1, 25), 10, date(2025, 2, 5), id="2025-spring-last-day"),
        # Thu 01-23 +3 = Sun 01-26, a 调休 working Sunday: kept.
        pytest.param(date(2025, 1, 23), 3, date(2025, 1, 26), id="2025-spring-makeup-sunday"),
        # Mon 02-03 +5 = Sat 02-08, a 调休 working Saturday: kept.
        pytest.param(date(2025, 2, 3), 5, date(2025, 2, 8), id="2025-spring-makeup-saturday"),
        # Tue 04-01 +3 = Fri 04-04, 清明 04-04..06 -> Mon 04-07.
        pytest.param(date(2025, 4, 1), 3, date(2025, 4, 7), id="2025-qingming"),
        # Mon 04-28 +3 = Thu 05-01, 劳动节 05-01..05 -> Tue 05-06.
        pytest.param(date(2025, 4, 28), 3, date(2025, 5, 6), id="2025-labour"),
        # Wed 05-28 +3 = Sat 05-31, 端午 05-31..06-02 -> Tue 06-03.
        pytest.param(date(2025, 5, 28), 3, date(2025, 6, 3), id="2025-dragon-boat"),
        # Fri 09-26 +7 = Fri 10-03, inside 国庆中秋 10-01..08 -> Thu 10-09.
        pytest.param(date(2025, 9, 26), 7, date(2025, 10, 9), id="2025-national-inside"),
        # Thu 09-25 +3 = Sun 09-28, a 调休 working Sunday: kept.
        pytest.param(date(2025, 9, 25), 3, date(2025, 9, 28), id="2025-national-makeup-sunday"),
        # Wed 10-01 +10 = Sat 10-11, a 调休 working Saturday: kept.
        pytest.param(date(2025, 10, 1), 10, date(2025, 10, 11), id="2025-national-makeup-saturday"),
        # Mon 2025-12-29 +3 = Thu 2026-01-01, 元旦 01-01..03 -> Sun 01-04, a 调休 working day.
        pytest.param(date(2025, 12, 29), 3, date(2026, 1, 4), id="2026-new-year-to-makeup-sunday"),
        # Tue 02-10 +7 = Tue 02-17, inside 春节 02-15..23 -> Tue 02-24.
        pytest.param(date(2026, 2, 10), 7, date(2026, 2, 24), id="2026-spring-inside"),
        # Wed 02-18 (itself a rest day) +5 = Mon 02-23, 春节's last day -> Tue 02-24.
        pytest.param(date(2026, 2, 18), 5, date(2026, 2, 24), id="2026-spring-last-day"),
        # Mon 02-23 +5 = Sat 02-28, a 调休 working Saturday: kept.
        pytest.param(date(2026, 2, 23), 5, date(2026, 2, 28), id="2026-spring-makeup-saturday"),
        # Wed 04-01 +4 = Sun 04-05, 清明 04-04..06 takes Monday too -> Tue 04-07.
        pytest.param(date(2026, 4, 1), 4, date(2026, 4, 7), id="2026-qingming-monday"),
        # Tue 04-28 +5 = Sun 05-03, 劳动节 05-01..05 -> Wed 05-06.
        pytest.param(date(2026, 4, 28), 5, date(2026, 5, 6), id="2026-labour"),
        # Wed 05-06 +3 = Sat 05-09, a 调休 working Saturday: kept.
        pytest.param(date(2026, 5, 6), 3, date(2026, 5, 9), id="2026-labour-makeup-saturday"),
        # Tue 06-16 +3 = Fri 06-19, 端午 06-19..21 -> Mon 06-22.
        pytest.param(date(2026, 6, 16), 3, date(2026, 6, 22), id="2026-dragon-boat"),
        # Tue 09-15 +5 = Sun 09-20, a 调休 working Sunday: kept.
        pytest.param(date(2026, 9, 15), 5, date(2026, 9, 20), id="2026-national-makeup-sunday"),
        # Tue 09-22 +3 = Fri 09-25, 中秋 09-25..27 -> Mon 09-28.
        pytest.param(date(2026, 9, 22), 3, date(2026, 9, 28), id="2026-mid-autumn"),
        # Wed 09-30 +7 = Wed 10-07, 国庆's last day -> Thu 10-08.
        pytest.param(date(2026, 9, 30), 7, date(2026, 10, 8), id="2026-national-last-day"),
        # Mon 10-05 +6 = Sun 10-11, an ordinary Sunday after the 调休 Saturday -> Mon 10-12.
        pytest.param(date(2026, 10, 5), 6, date(2026, 10, 12), id="2026-national-after-makeup"),
    ],
)
def test_add_days_across_the_notices(cal: WorkingCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_days(at_ten(start), n) == end_of(expected)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Fri 01-24: Sat 01-25 rest, Sun 01-26 调休 (1), Mon 01-27 (2), 春节 01-28..02-04,
        # Wed 02-05 (3), Thu (4), Fri (5), Sat 02-08 调休 (6), Sun rest, Mon 02-10 (7).
        pytest.param(date(2025, 1, 24), 7, date(2025, 2, 10), id="2025-spring-7"),
        pytest.param(date(2025, 1, 24), 6, date(2025, 2, 8), id="2025-spring-6"),
        # Fri 09-26: Sat rest, Sun 09-28 调休 (1), Mon (2), Tue 09-30 (3), 国庆中秋 10-01..08,
        # Thu 10-09 (4), Fri (5), Sat 10-11 调休 (6), Sun rest, Mon 10-13 (7).
        pytest.param(date(2025, 9, 26), 5, date(2025, 10, 10), id="2025-national-5"),
        pytest.param(date(2025, 9, 26), 7, date(2025, 10, 13), id="2025-national-7"),
        # Tue 2025-12-30: Wed 12-31 (1), 元旦 01-01..03, Sun 01-04 调休 (2), Mon 01-05 (3).
        pytest.param(date(2025, 12, 30), 3, date(2026, 1, 5), id="2026-new-year-3"),
        # Fri 02-13: Sat 02-14 调休 (1), 春节 02-15..23, Tue 02-24 (2), Wed (3), Thu (4), Fri (5),
        # Sat 02-28 调休 (6), Sun rest, Mon 03-02 (7).
        pytest.param(date(2026, 2, 13), 6, date(2026, 2, 28), id="2026-spring-6"),
        pytest.param(date(2026, 2, 13), 7, date(2026, 3, 2), id="2026-spring-7"),
        # Wed 04-29: Thu 04-30 (1), 劳动节 05-01..05, Wed 05-06 (2), Thu (3), Fri (4),
        # Sat 05-09 调休 (5), Sun rest, Mon 05-11 (6).
        pytest.param(date(2026, 4, 29), 6, date(2026, 5, 11), id="2026-labour-6"),
        # Fri 09-18: Sat rest, Sun 09-20 调休 (1), Mon..Thu 09-21..24 (2-5), 中秋 09-25..27,
        # Mon..Wed 09-28..30 (6-8), 国庆 10-01..07, Thu 10-08 (9), Fri (10), Sat 10-10 调休 (11),
        # Sun rest, Mon 10-12 (12), Tue (13), Wed (14), Thu 10-15 (15).
        pytest.param(date(2026, 9, 18), 10, date(2026, 10, 9), id="2026-autumn-national-10"),
        pytest.param(date(2026, 9, 18), 15, date(2026, 10, 15), id="2026-autumn-national-15"),
    ],
)
def test_add_working_days_across_the_notices(
    cal: WorkingCalendar, start: date, n: int, expected: date
) -> None:
    assert cal.add_working_days(at_ten(start), n) == end_of(expected)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 2025-08-01 +2 months = Wed 10-01, 国庆中秋 10-01..08 -> Thu 10-09.
        pytest.param(date(2025, 8, 1), 2, date(2025, 10, 9), id="2025-national"),
        # 2025-11-04 +2 months = Sun 2026-01-04, a 调休 working Sunday: kept.
        pytest.param(date(2025, 11, 4), 2, date(2026, 1, 4), id="2026-new-year-makeup"),
        # 2025-12-17 +2 months = Tue 2026-02-17, inside 春节 02-15..23 -> Tue 02-24.
        pytest.param(date(2025, 12, 17), 2, date(2026, 2, 24), id="2026-spring"),
    ],
)
def test_add_months_across_the_notices(cal: WorkingCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_months(at_ten(start), n) == end_of(expected)


@pytest.mark.parametrize(
    ("deadline", "n", "expected"),
    [
        # Deadline Wed 2025-02-05 (1), 春节 02-04..01-28 back, Mon 01-27 (2), Sun 01-26 调休 (3).
        pytest.param(date(2025, 2, 5), 2, date(2025, 1, 27), id="2025-spring-2"),
        pytest.param(date(2025, 2, 5), 3, date(2025, 1, 26), id="2025-spring-3"),
        # Deadline Thu 2025-10-09 (1), 国庆中秋 10-08..01 back, Tue 09-30 (2), Mon (3), Sun 09-28 调休 (4),
        # Sat rest, Fri 09-26 (5).
        pytest.param(date(2025, 10, 9), 2, date(2025, 9, 30), id="2025-national-2"),
        pytest.param(date(2025, 10, 9), 4, date(2025, 9, 28), id="2025-national-4"),
        pytest.param(date(2025, 10, 9), 5, date(2025, 9, 26), id="2025-national-5"),
        # Deadline Mon 2026-01-05 (1), Sun 01-04 调休 (2), 元旦 01-03..01 back, Wed 2025-12-31 (3).
        pytest.param(date(2026, 1, 5), 3, date(2025, 12, 31), id="2026-new-year-3"),
        # Deadline Tue 2026-02-24 (1), 春节 02-23..15 back, Sat 02-14 调休 (2), Fri 02-13 (3).
        pytest.param(date(2026, 2, 24), 2, date(2026, 2, 14), id="2026-spring-2"),
        pytest.param(date(2026, 2, 24), 3, date(2026, 2, 13), id="2026-spring-3"),
        # Deadline Thu 2026-10-08 (1), 国庆 10-07..01 back, Wed 09-30 (2).
        pytest.param(date(2026, 10, 8), 2, date(2026, 9, 30), id="2026-national-2"),
        # A deadline on the 调休 Saturday 2026-10-10 is warned about that very morning.
        pytest.param(date(2026, 10, 10), 1, date(2026, 10, 10), id="2026-makeup-saturday-1"),
    ],
)
def test_warning_time_before_the_holidays(
    cal: WorkingCalendar, deadline: date, n: int, expected: date
) -> None:
    assert cal.warning_time(end_of(deadline), n) == datetime.combine(expected, time(0), tzinfo=SHANGHAI)
