"""Requests: a set of clips (a camera's archive), a time window, request zones and options."""

from __future__ import annotations

import ctypes
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Union

from ._lib import api, check, text
from ._time import TimeLike, to_posix
from .config import Zone, ZoneSpec, normalize_zones, zone_spec_text
from .errors import BadWindowError

__all__ = ["Request", "WindowEnd", "parse_time", "format_time"]

#: One end of a window: a ``datetime`` (wall clock; naive = UTC), a string as the CLI's
#: ``--from/--to`` read it (``"2026-07-04T14:05:00Z"``, ``"12.5"``, ``"01:30"``), seconds
#: from each clip's start (``float``/``timedelta``), or None (open).
WindowEnd = Union[datetime, str, float, int, timedelta, None]

TIME_RELATIVE = 1
TIME_WALL = 2

_REQUEST_OPTIONS = ("sensitivity", "min_length", "merge_gap", "pre_roll", "post_roll",
                    "use_index", "write_index")


def parse_time(value: str) -> datetime | float:
    """Reads a time as the CLI does: ISO-8601 -> aware UTC ``datetime``; ``"12.5"``,
    ``"MM:SS"``, ``"HH:MM:SS.mmm"`` -> seconds (float). BadTimeError otherwise."""
    from ._time import to_datetime
    seconds, kind = _parse(value)
    if kind == TIME_WALL:
        dt = to_datetime(seconds)
        assert dt is not None
        return dt
    return seconds


def _parse(value: str) -> tuple[float, int]:
    s = ctypes.c_double()
    k = ctypes.c_int()
    check(api.vmo_parse_time(value.encode(), ctypes.byref(s), ctypes.byref(k)),
          f"cannot read time {value!r}")
    return s.value, k.value


def format_time(value: TimeLike) -> str:
    """A wall-clock time as the library writes it: ISO-8601 UTC with milliseconds."""
    buf = ctypes.create_string_buffer(64)
    check(api.vmo_format_time(to_posix(value), buf, len(buf)))
    return buf.value.decode()


def _window_end(v: WindowEnd) -> tuple[int, float]:
    """(kind, seconds) of one end; kind 0 = open."""
    if v is None:
        return 0, math.nan
    if isinstance(v, datetime):
        return TIME_WALL, to_posix(v)
    if isinstance(v, timedelta):
        return TIME_RELATIVE, v.total_seconds()
    if isinstance(v, str):
        s, k = _parse(v)
        return k, s
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return TIME_RELATIVE, float(v)
    raise TypeError(f"window end {v!r}: expected datetime, str, seconds, timedelta or None")


@dataclass
class _ClipEntry:
    path: str
    wall_start: float  # NaN: from the clip's tag or file name


@dataclass
class Request:
    """Clips to analyse together, with an optional time window.

    >>> rq = Request(["cam1_20260704T140000Z.mp4", "cam1_20260704T141000Z.mp4"],
    ...              window=(datetime(2026, 7, 4, 14, 5), datetime(2026, 7, 4, 14, 15)))
    >>> result = analyzer.run(rq)

    ``window`` ends are wall-clock (``datetime``, ISO strings) or both relative (seconds
    from each clip's first frame); zones given here replace the analyzer's for this
    request; ``select`` reports only the named zones; ``options`` are the request options
    ("sensitivity", "min_length", "merge_gap", "pre_roll", "post_roll", "use_index",
    "write_index"), also accepted as keyword arguments.
    """

    clips: list[_ClipEntry] = field(default_factory=list)
    window: tuple[WindowEnd, WindowEnd] | None = None
    zones: list[Zone] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    options: dict[str, float] = field(default_factory=dict)

    def __init__(self, paths: Iterable[str | os.PathLike[str]] = (), *,
                 window: tuple[WindowEnd, WindowEnd] | None = None,
                 zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None = None,
                 masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None = None,
                 select: Iterable[str] | str | None = None,
                 options: Mapping[str, float] | None = None, **kw_options: Any) -> None:
        self.clips = []
        for p in paths:
            self.add(p)
        self.window = None
        if window is not None:
            self.set_window(*window)
        self.zones = normalize_zones(zones, masks)
        self.select = [select] if isinstance(select, str) else list(select or [])
        self.options = {}
        for k, v in {**(options or {}), **kw_options}.items():
            if v is not None:
                self.set(k, v)

    def add(self, path: str | os.PathLike[str], wall_start: TimeLike | None = None) -> Request:
        """Adds a clip; ``wall_start`` (datetime or POSIX seconds) overrides the time taken
        from its creation_time tag or file name."""
        self.clips.append(_ClipEntry(os.fspath(path), to_posix(wall_start)))
        return self

    def set_window(self, start: WindowEnd = None, end: WindowEnd = None) -> Request:
        """The time window (either end may be None). Checked here: BadTimeError,
        BadWindowError (mixed kinds, or ends before it starts)."""
        (ka, a), (kb, b) = _window_end(start), _window_end(end)
        if ka and kb and ka != kb:
            raise BadWindowError("a window's ends must both be wall-clock times or both be "
                                 "seconds from the clip start", reason="invalid time window")
        if ka and kb and b < a:
            raise BadWindowError(f"the window ends ({end!r}) before it starts ({start!r})",
                                 reason="invalid time window")
        self.window = (start, end)
        return self

    def add_zone(self, name: str, spec: ZoneSpec, *, exclude: bool = False) -> Request:
        self.zones.append(Zone(name, spec, exclude))
        return self

    def select_zone(self, name: str) -> Request:
        self.select.append(name)
        return self

    def set(self, name: str, value: float | bool) -> Request:
        """A request option by name (see the class doc)."""
        self.options[name] = float(value)
        return self

    # ---- C handle ----
    def _build(self) -> ctypes.c_void_p:
        """A new ``vmo_request`` (the caller destroys it)."""
        h = ctypes.c_void_p()
        check(api.vmo_request_create(ctypes.byref(h)))
        try:
            def ok(rc: int) -> None:
                if rc != 0:
                    check(rc, text(api.vmo_request_last_error(h)))

            for c in self.clips:
                ok(api.vmo_request_add_clip(h, os.fsencode(c.path), c.wall_start))
            if self.window is not None:
                (ka, a), (kb, b) = (_window_end(v) for v in self.window)
                if ka or kb:
                    kind = ka or kb
                    fn = (api.vmo_request_set_window_wall if kind == TIME_WALL
                          else api.vmo_request_set_window_clip)
                    ok(fn(h, a, b))
            for z in self.zones:
                ok(api.vmo_request_add_zone(h, z.name.encode(), 1 if z.exclude else 0,
                                            zone_spec_text(z.spec).encode()))
            for name in self.select:
                ok(api.vmo_request_select_zone(h, name.encode()))
            for k, v in self.options.items():
                ok(api.vmo_request_set_double(h, k.encode(), v))
        except BaseException:
            api.vmo_request_destroy(ctypes.byref(h))
            raise
        return h

    def _reported_zones(self, analyzer_zones: list[str]) -> list[str]:
        """The zone names a run reports, by index (as the library derives them)."""
        if self.zones:
            names = [z.name for z in self.zones if not z.exclude] or ["frame"]
        else:
            names = list(analyzer_zones)
        if self.select:
            names = [n for n in names if n in self.select]
        return names

    def __len__(self) -> int:
        return len(self.clips)
