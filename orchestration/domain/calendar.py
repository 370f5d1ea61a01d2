"""Working-day calendar behind every legal deadline (Civil Code arts 200–204).

Periods are counted on Asia/Shanghai dates; the start day is day 0 and is not
counted; a period whose last day is a statutory rest day ends on the first
working day after it; a deadline is the end (23:59:59) of its last day.

Where the day status comes from, in order of authority:

* ``"admin"``    – the administrator's table injected by the caller.  It wins over
  the libraries because it is how next year's State Council notice (published
  around November) or a local correction reaches the system before a library
  release does.
* ``"official"`` – ``chinese_calendar``'s copy of the published schedule, 调休
  make-up working days included.
* ``"estimate"`` – years the published data does not cover: weekends rest plus
  the holidays ``holidays`` (CN) derives from the statutory rules; the 调休
  make-up working days are unknowable until the notice appears, so such
  deadlines must be flagged and recomputed once the real schedule is loaded.

Instances are immutable in effect: a changed admin table means a new instance,
which keeps the per-year cache trivially correct.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as holidays_lib

__all__ = ["SHANGHAI", "DayInfo", "EveryDayCalendar", "WorkingCalendar"]

SHANGHAI: Final[ZoneInfo] = ZoneInfo("Asia/Shanghai")

SOURCE_ADMIN: Final = "admin"
SOURCE_OFFICIAL: Final = "official"
SOURCE_ESTIMATE: Final = "estimate"

_END_OF_DAY: Final = time(23, 59, 59)

# Read the library's tables directly: its get_holiday_detail() re-scans the whole
# table on every call to validate the year, far too slow for building a year.
_CC_HOLIDAYS: Final[Mapping[date, str]] = chinese_calendar.holidays
_CC_WORKDAYS: Final[Mapping[date, str]] = chinese_calendar.workdays
_CC_FIRST_YEAR: Final[int] = min(_CC_HOLIDAYS).year
_CC_LAST_YEAR: Final[int] = max(_CC_HOLIDAYS).year

# Substring match (lower-cased) because `holidays` decorates its names, e.g.
# "Labor Day (observed)", "Chinese New Year's Eve"; the eve belongs to 春节 since
# the 2025 amendment of the 放假办法.  Checked in order.
_NAME_KEYWORDS: Final[tuple[tuple[str, str], ...]] = (
    ("chinese new year", "春节"),
    ("spring festival", "春节"),
    ("new year", "元旦"),
    ("tomb", "清明节"),
    ("qingming", "清明节"),
    ("labour day", "劳动节"),
    ("labor day", "劳动节"),
    ("dragon boat", "端午节"),
    ("mid-autumn", "中秋节"),
    ("national day", "国庆节"),
)


def _chinese_name(english: str | None) -> str | None:
    if not english:
        return None
    lowered = english.lower()
    for keyword, chinese in _NAME_KEYWORDS:
        if keyword in lowered:
            return chinese
    # One-off holidays (e.g. the 2015 anti-fascist victory day) carry their own
    # Chinese name on newer chinese_calendar enums.
    try:
        return getattr(chinese_calendar.Holiday(english), "chinese", None)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class DayInfo:
    day: date
    is_working: bool
    source: str
    # For a 调休 make-up working day this is the holiday it pays for (as
    # chinese_calendar reports it), so a working Saturday can be explained.
    name: str | None


@dataclass(frozen=True, slots=True)
class _YearTable:
    first_ordinal: int
    working: bytes  # one flag per day of the year, indexed from 1 January
    working_ordinals: tuple[int, ...]  # sorted, for bisect on the hot path
    base_source: str
    admin_ordinals: frozenset[int]
    names: Mapping[int, str]


def _require_aware(value: datetime, what: str) -> date:
    if not isinstance(value, datetime):
        raise TypeError(f"{what}必须是带时区的 datetime，收到的是 {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}缺少时区信息：期间按北京时间（Asia/Shanghai）计算，不接受不带时区的时间")
    return value.astimezone(SHANGHAI).date()


def _require_count(n: int, minimum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"期间长度必须是整数，收到的是 {n!r}")
    if n < minimum:
        raise ValueError(f"期间长度不得小于 {minimum}，收到的是 {n}")


def _end_of(day: date) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=SHANGHAI)


def _last_day_of_month(year: int, month: int) -> int:
    # Avoids importing the stdlib `calendar`, which this module's name shadows
    # for anyone running it with handlers/ on sys.path.
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (first_of_next - timedelta(days=1)).day


class WorkingCalendar:
    """Working days as the law counts them, with lazily built per-year tables."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        official_years: Iterable[int] = (),
    ) -> None:
        by_year: dict[int, dict[int, bool]] = {}
        for day, is_working in (overrides or {}).items():
            # A datetime key would silently never match a date lookup.
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"管理员日历的键必须是 date，收到的是 {day!r}")
            by_year.setdefault(day.year, {})[day.toordinal()] = bool(is_working)
        self._overrides: dict[int, dict[int, bool]] = by_year
        self._official_years: frozenset[int] = frozenset(int(y) for y in official_years)
        self._years: dict[int, _YearTable] = {}

    # -- day status -----------------------------------------------------------

    def is_estimated(self, year: int) -> bool:
        return not (_CC_FIRST_YEAR <= year <= _CC_LAST_YEAR) and year not in self._official_years

    def day_info(self, d: date) -> DayInfo:
        d = self._as_date(d)
        table = self._table(d.year)
        ordinal = d.toordinal()
        source = SOURCE_ADMIN if ordinal in table.admin_ordinals else table.base_source
        return DayInfo(
            day=d,
            is_working=bool(table.working[ordinal - table.first_ordinal]),
            source=source,
            name=table.names.get(ordinal),
        )

    def is_working_day(self, d: date) -> bool:
        d = self._as_date(d)
        table = self._table(d.year)
        return bool(table.working[d.toordinal() - table.first_ordinal])

    def estimated_between(self, start: datetime, end: datetime) -> bool:
        first = _require_aware(start, "起始时间")
        last = _require_aware(end, "结束时间")
        if first > last:
            first, last = last, first
        return any(self.is_estimated(year) for year in range(first.year, last.year + 1))

    # -- periods --------------------------------------------------------------

    def add_days(self, start: datetime, n: int) -> datetime:
        _require_count(n, 0)
        day0 = _require_aware(start, "期间起算时间")
        return _end_of(self._working_on_or_after(day0.toordinal() + n))

    def add_working_days(self, start: datetime, n: int) -> datetime:
        _require_count(n, 1)
        day0 = _require_aware(start, "期间起算时间")
        ordinal = day0.toordinal()
        year = day0.year
        table = self._table(year)
        index = bisect_right(table.working_ordinals, ordinal)
        remaining = n
        while True:
            available = len(table.working_ordinals) - index
            if remaining <= available:
                return _end_of(date.fromordinal(table.working_ordinals[index + remaining - 1]))
            remaining -= available
            year += 1
            table = self._table(year)
            index = 0

    def add_months(self, start: datetime, n: int) -> datetime:
        _require_count(n, 0)
        day0 = _require_aware(start, "期间起算时间")
        months = day0.month - 1 + n
        year, month = day0.year + months // 12, months % 12 + 1
        # Art 202: no corresponding day in the final month -> its last day.
        day = min(day0.day, _last_day_of_month(year, month))
        return _end_of(self._working_on_or_after(date(year, month, day).toordinal()))

    def warning_time(self, deadline: datetime, n: int) -> datetime:
        """When a deadline is n working days away: the start of the n-th working day counted back
        from the deadline's own day (n=1: the morning of the last day)."""
        _require_count(n, 1)
        day = _require_aware(deadline, "期限")
        found = 0
        while True:
            if self.is_working_day(day):
                found += 1
                if found == n:
                    return datetime.combine(day, time(0), tzinfo=SHANGHAI)
            day -= timedelta(days=1)

    # -- internals ------------------------------------------------------------

    @staticmethod
    def _as_date(d: date) -> date:
        if isinstance(d, datetime):
            return _require_aware(d, "日期")
        if not isinstance(d, date):
            raise TypeError(f"需要 date，收到的是 {type(d).__name__}")
        return d

    def _working_on_or_after(self, ordinal: int) -> date:
        year = date.fromordinal(ordinal).year
        table = self._table(year)
        index = bisect_left(table.working_ordinals, ordinal)
        while index >= len(table.working_ordinals):
            year += 1
            table = self._table(year)
            index = 0
        return date.fromordinal(table.working_ordinals[index])

    def _table(self, year: int) -> _YearTable:
        table = self._years.get(year)
        if table is None:
            # A concurrent duplicate build yields an identical table, so no lock.
            table = self._build_year(year)
            self._years[year] = table
        return table

    def _build_year(self, year: int) -> _YearTable:
        first = date(year, 1, 1)
        first_ordinal = first.toordinal()
        length = date(year + 1, 1, 1).toordinal() - first_ordinal
        rest: set[int] = set()
        makeup: set[int] = set()
        names: dict[int, str] = {}

        if _CC_FIRST_YEAR <= year <= _CC_LAST_YEAR:
            base_source = SOURCE_OFFICIAL
            for cc_table, target in ((_CC_HOLIDAYS, rest), (_CC_WORKDAYS, makeup)):
                for day, english in cc_table.items():
                    if day.year == year:
                        target.add(day.toordinal())
                        name = _chinese_name(english)
                        if name:
                            names[day.toordinal()] = name
        else:
            estimated = year not in self._official_years
            base_source = SOURCE_ESTIMATE if estimated else SOURCE_ADMIN
            # `holidays` adds weekday substitutes for holidays falling on a
            # weekend (放假办法 art 6): a fair guess while estimating, but once
            # the administrator has loaded the real notice its arrangement, not
            # this guess, must decide those days.
            fixed = holidays_lib.country_holidays("CN", years=year, language="en_US", observed=estimated)
            for day, english in fixed.items():
                rest.add(day.toordinal())
                name = _chinese_name(english)
                if name:
                    names[day.toordinal()] = name

        overrides = self._overrides.get(year, {})
        working = bytearray(length)
        first_weekday = first.weekday()
        for offset in range(length):
            ordinal = first_ordinal + offset
            if ordinal in overrides:
                is_working = overrides[ordinal]
            elif ordinal in makeup:
                is_working = True
            elif ordinal in rest:
                is_working = False
            else:
                is_working = (first_weekday + offset) % 7 < 5
            working[offset] = is_working

        return _YearTable(
            first_ordinal=first_ordinal,
            working=bytes(working),
            working_ordinals=tuple(first_ordinal + i for i in range(length) if working[i]),
            base_source=base_source,
            admin_ordinals=frozenset(overrides),
            names=names,
        )


class EveryDayCalendar(WorkingCalendar):
    """A calendar without rest days: a period ends on the very day it names. A deadline expression counted
    with it gives the period the expression states (from its end, the period's length), which the real
    calendar may lengthen by moving a last day off rest days (art 203)."""

    def _build_year(self, year: int) -> _YearTable:
        first_ordinal = date(year, 1, 1).toordinal()
        ordinals = tuple(range(first_ordinal, date(year + 1, 1, 1).toordinal()))
        return _YearTable(
            first_ordinal=first_ordinal,
            working=b"\x01" * len(ordinals),
            working_ordinals=ordinals,
            base_source=SOURCE_ADMIN,
            admin_ordinals=frozenset(),
            names={},
        )
