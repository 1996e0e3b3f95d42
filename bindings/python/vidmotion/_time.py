"""Conversions between the library's POSIX seconds (NaN = unknown) and ``datetime``."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

__all__ = ["to_datetime", "to_posix", "TimeLike"]

#: A wall-clock time: an aware ``datetime`` (a naive one is taken as UTC, like the library's
#: ISO-8601 strings without a zone designator) or POSIX seconds.
TimeLike = datetime | float | int


def to_datetime(posix: float) -> datetime | None:
    """POSIX seconds -> aware UTC ``datetime`` (microseconds kept); None for NaN."""
    if posix is None or not math.isfinite(posix):
        return None
    whole = math.floor(posix)
    micro = round((posix - whole) * 1e6)
    return datetime.fromtimestamp(whole, tz=timezone.utc) + timedelta(microseconds=micro)


def to_posix(value: TimeLike | None) -> float:
    """``datetime`` (naive = UTC) or POSIX seconds -> POSIX seconds; None -> NaN."""
    if value is None:
        return math.nan
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)


def nan_to_none(v: float) -> float | None:
    return v if math.isfinite(v) else None
