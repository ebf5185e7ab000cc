"""Public holidays of the sample chain's markets, computed (no download, no library).

Markets are the first part of a store's region: ``us``, ``uk``, ``eu``. Each has its main
nationwide holidays, fixed-date and movable (Easter-based, "n-th weekday of a month"); substitute
days, regional and one-off holidays are left out. A fork with a real calendar replaces
:func:`holidays` and keeps its signature.
"""

from __future__ import annotations

from datetime import date, timedelta


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian computus of Meeus, Jones and Butcher)."""
    a, (b, c) = year % 19, divmod(year, 100)
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month, day = divmod(h + weekday - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 = Monday) of a month; ``n`` = -1 for the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


MONDAY, THURSDAY = 0, 3
MARKETS = ("us", "uk", "eu")


def holidays(market: str, year: int) -> dict[date, str]:
    """Holiday -> name in ``market`` (``us``, ``uk`` or ``eu``) in ``year``."""
    easter = easter_sunday(year)
    common = {date(year, 1, 1): "New Year's Day", date(year, 12, 25): "Christmas Day"}
    if market == "us":
        return common | {
            _nth_weekday(year, 5, MONDAY, -1): "Memorial Day",
            date(year, 7, 4): "Independence Day",
            _nth_weekday(year, 9, MONDAY, 1): "Labor Day",
            _nth_weekday(year, 11, THURSDAY, 4): "Thanksgiving",
        }
    european = common | {
        easter - timedelta(days=2): "Good Friday",
        easter + timedelta(days=1): "Easter Monday",
        date(year, 12, 26): "Boxing Day / St Stephen's Day",
    }
    if market == "uk":
        return european | {
            _nth_weekday(year, 5, MONDAY, 1): "Early May bank holiday",
            _nth_weekday(year, 5, MONDAY, -1): "Spring bank holiday",
            _nth_weekday(year, 8, MONDAY, -1): "Summer bank holiday",
        }
    if market == "eu":
        return european | {date(year, 5, 1): "Labour Day"}
    raise ValueError(f"unknown market {market!r}; known: {', '.join(MARKETS)}")
