"""Results: clips, motion segments (events) and per-frame scores, as dataclasses.

Everything is read through the C accessors (``vmo_result_clip``, ``vmo_result_event``,
``vmo_result_series``...). Per-frame series and heatmaps are *views* of the memory the C
result owns (numpy arrays when numpy is installed, read-only ``memoryview`` otherwise):
no copy is made, and each view keeps the C result alive for as long as it exists.
"""

from __future__ import annotations

import ctypes
import enum
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from . import _types as T
from ._compat import wrap_array
from ._lib import api, check, path_text, strerror, text
from ._time import nan_to_none, to_datetime
from .errors import Error, StateError, error_for

__all__ = [
    "ClipFlags",
    "EventFlags",
    "FrameFlags",
    "Clip",
    "Segment",
    "EventSource",
    "FrameScore",
    "Plane",
    "Series",
    "Result",
    "merge",
]


class ClipFlags(enum.IntFlag):
    """``vmo_clip_info.flags`` (``VMO_CLIP_*``)."""

    TRUNCATED = 1 << 0
    DAMAGED = 1 << 1
    SKIPPED = 1 << 2
    PARTIAL = 1 << 3
    INDEXED = 1 << 4
    RESIZED = 1 << 5
    CANCELLED = 1 << 6
    FAST = 1 << 7


class EventFlags(enum.IntFlag):
    """``vmo_event.flags`` (``VMO_EVENT_*``)."""

    AT_CLIP_START = 1 << 0
    AT_CLIP_END = 1 << 1
    SPLIT = 1 << 2
    CROSSES_FILES = 1 << 3
    CLIPPED = 1 << 4


class FrameFlags(enum.IntFlag):
    """Per-frame flags (``VMO_FRAME_*``)."""

    KEY = 1 << 0
    LIGHTING = 1 << 1
    RESTART = 1 << 2


def flag_words(flags: enum.IntFlag) -> list[str]:
    """Set flags as lower-case words, lowest bit first (the JSON's ``flags`` list)."""
    return [f.name.lower() for f in type(flags) if f in flags and f.name]


_WALL_SOURCES = {1: "creation_time", 2: "filename", 3: "caller"}


@dataclass(frozen=True)
class Clip:
    """One clip of a result (``vmo_clip_info``)."""

    path: str
    status: str  # "ok", "truncated" or "error"
    error_code: int  # 0, or the clip's vmo_status (e.g. -11 truncated)
    error: str | None
    frames: int  # decoded
    analysed: int
    duration: float  # seconds
    fps: float  # nominal, 0 when unknown
    width: int
    height: int
    rotation: int
    analysis_width: int
    analysis_height: int
    codec: str
    size: int | None  # bytes, None when unknown
    wall_start: datetime | None
    wall_source: str | None  # "creation_time", "filename", "caller" or None
    flags: ClipFlags
    index: int = 0  # position in the result

    @property
    def ok(self) -> bool:
        """True when the clip was analysed (possibly truncated: see ``flags``)."""
        return self.status != "error"

    @property
    def exception(self) -> Error | None:
        """The clip's failure as a :class:`~vidmotion.Error` (None when it succeeded)."""
        if self.error_code == 0:
            return None
        return error_for(self.error_code, self.error or "", strerror(self.error_code))

    def raise_for_status(self) -> None:
        """Raises the clip's error, if it failed (a truncated clip does not raise)."""
        if self.status == "error" and self.error_code:
            raise error_for(self.error_code, self.error or "", strerror(self.error_code))

    @classmethod
    def _from_c(cls, ci: T.ClipInfo, index: int) -> Clip:
        status = "ok" if ci.status == 0 else "truncated" if ci.status == -11 else "error"
        return cls(
            path=path_text(ci.path), status=status, error_code=ci.status,
            error=text(ci.error), frames=ci.frames, analysed=ci.analysed,
            duration=ci.duration, fps=ci.fps, width=ci.width, height=ci.height,
            rotation=ci.rotation, analysis_width=ci.analysis_width,
            analysis_height=ci.analysis_height, codec=text(ci.codec) or "",
            size=ci.size_bytes if ci.size_bytes >= 0 else None,
            wall_start=to_datetime(ci.wall_start),
            wall_source=_WALL_SOURCES.get(ci.wall_source), flags=ClipFlags(ci.flags),
            index=index)


@dataclass(frozen=True)
class EventSource:
    """One clip's share of a segment (a segment crossing files has one per clip)."""

    clip: str
    start: float  # unpadded, seconds in that clip
    end: float
    clip_start: float  # padded by pre-/post-roll
    clip_end: float
    clip_index: int = 0


@dataclass(frozen=True)
class Segment:
    """A motion event (or a lighting change) in one zone (``vmo_event``).

    Times are seconds from the first frame of the clip named (``start`` in ``clip``, ``end``
    in ``end_clip``); ``wall_start``/``wall_end`` are UTC datetimes, None without a
    wall clock. ``clip_start``/``clip_end`` are padded by the pre-/post-roll.
    """

    kind: str  # "motion" or "lighting"
    zone: str
    clip: str
    start: float
    end: float
    peak: float  # highest changed fraction of the zone (0..1)
    mean: float
    wall_start: datetime | None
    wall_end: datetime | None
    clip_start: float
    clip_end: float
    end_clip: str
    start_frame: int
    end_frame: int
    keyframe: float | None  # keyframe at or before start (None if unknown)
    clip_keyframe: float | None  # keyframe at or before clip_start: where a copy starts
    peak_time: float
    peak_clip: str
    flags: EventFlags
    sources: tuple[EventSource, ...] = ()
    # The whole event when it was cut to a request's window (EventFlags.CLIPPED).
    whole_start: float = math.nan
    whole_end: float = math.nan
    whole_wall_start: datetime | None = None
    whole_wall_end: datetime | None = None
    whole_clip: str = ""
    whole_end_clip: str = ""
    zone_index: int = 0
    clip_index: int = 0
    end_clip_index: int = 0
    peak_clip_index: int = 0

    @property
    def clipped(self) -> bool:
        """Cut to a request's window (the whole event is in ``whole_*``)."""
        return EventFlags.CLIPPED in self.flags

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame with motion (across files too)."""
        if self.wall_start is not None and self.wall_end is not None:
            return (self.wall_end - self.wall_start).total_seconds()
        if self.end_clip_index == self.clip_index:
            return self.end - self.start
        return sum(s.end - s.start for s in self.sources)

    def __str__(self) -> str:
        when = f"  {iso(self.wall_start)}" if self.wall_start else ""
        return (f"{self.kind:<8} {self.zone:<12} {_clock(self.start)} - {_clock(self.end)}"
                f"  peak {self.peak * 100:6.2f}%{when}  {self.clip}")


def segment_from_c(ev: T.Event, zone_name: Callable[[int], str],
                   clip_path: Callable[[int], str],
                   sources: Sequence[EventSource] | None = None) -> Segment:
    """A :class:`Segment` from a ``vmo_event`` (``sources`` default: the event itself)."""
    if sources is None:
        sources = (EventSource(clip_path(ev.clip), ev.start, ev.end, ev.clip_start,
                               ev.clip_end, ev.clip),)
    return Segment(
        kind="lighting" if ev.kind == 1 else "motion", zone=zone_name(ev.zone),
        clip=clip_path(ev.clip), start=ev.start, end=ev.end, peak=ev.peak, mean=ev.mean,
        wall_start=to_datetime(ev.wall_start), wall_end=to_datetime(ev.wall_end),
        clip_start=ev.clip_start, clip_end=ev.clip_end, end_clip=clip_path(ev.end_clip),
        start_frame=ev.start_frame, end_frame=ev.end_frame,
        keyframe=nan_to_none(ev.keyframe), clip_keyframe=nan_to_none(ev.clip_keyframe),
        peak_time=ev.peak_time, peak_clip=clip_path(ev.peak_clip),
        flags=EventFlags(ev.flags), sources=tuple(sources),
        whole_start=ev.whole_start, whole_end=ev.whole_end,
        whole_wall_start=to_datetime(ev.whole_wall_start),
        whole_wall_end=to_datetime(ev.whole_wall_end),
        whole_clip=clip_path(ev.whole_clip), whole_end_clip=clip_path(ev.whole_end_clip),
        zone_index=ev.zone, clip_index=ev.clip, end_clip_index=ev.end_clip,
        peak_clip_index=ev.peak_clip)


class Plane:
    """The 8-bit luma analysis plane of a frame report.

    It lives in the library's memory and is valid **only during the frame callback** that
    received it: :meth:`view` gives a zero-copy view that must not be used after the
    callback returns; :meth:`copy` gives an independent copy to keep. Any call after the
    callback raises :class:`~vidmotion.StateError`.
    """

    __slots__ = ("width", "height", "stride", "_addr", "_valid")

    def __init__(self, addr: int, width: int, height: int, stride: int) -> None:
        self.width = width
        self.height = height
        self.stride = stride
        self._addr = addr
        self._valid = True

    def _raw(self) -> ctypes.Array[ctypes.c_uint8]:
        if not self._valid:
            raise StateError("the analysis plane is only valid during the frame callback "
                             "(call plane.copy() inside it to keep it)")
        n = self.stride * (self.height - 1) + self.width
        return (ctypes.c_uint8 * n).from_address(self._addr)

    def view(self) -> Any:
        """Zero-copy (height, width) uint8 numpy view (valid during the callback only);
        without numpy, a (height, stride) memoryview."""
        from . import _compat
        raw = self._raw()
        if _compat.np is not None:
            np = _compat.np
            return np.lib.stride_tricks.as_strided(
                np.frombuffer(raw, dtype=np.uint8), shape=(self.height, self.width),
                strides=(self.stride, 1), writeable=False)
        n = self.stride * self.height
        full = (ctypes.c_uint8 * n).from_address(self._addr)
        return memoryview(full).cast("B", [self.height, self.stride]).toreadonly()

    def copy(self) -> Any:
        """A (height, width) uint8 numpy array of its own (bytes, row after row, without
        numpy)."""
        from . import _compat
        raw = bytes(self._raw())
        rows = b"".join(raw[y * self.stride:y * self.stride + self.width]
                        for y in range(self.height)) if self.stride != self.width else raw
        if _compat.np is not None:
            return _compat.np.frombuffer(rows, dtype=_compat.np.uint8).reshape(
                self.height, self.width).copy()
        return rows

    def tobytes(self) -> bytes:
        """The pixels, row after row, without stride padding."""
        c = self.copy()
        return c if isinstance(c, bytes) else c.tobytes()

    def __repr__(self) -> str:
        state = "" if self._valid else " (expired)"
        return f"<vidmotion.Plane {self.width}x{self.height} stride {self.stride}{state}>"


@dataclass(frozen=True)
class FrameScore:
    """Scores of one analysed frame, per zone name.

    ``changed`` is the fraction of the zone's pixels that changed (0..1), ``mad`` the mean
    absolute difference to the previous frame (0..255). ``index`` is the frame number in
    the clip (frame reports) or None (from a result's series). ``plane`` is set only in
    frame callbacks (see :class:`Plane`), or a copy with ``iter_frames(planes=True)``.
    """

    clip: int
    t: float
    changed: dict[str, float]
    mad: dict[str, float]
    flags: FrameFlags
    index: int | None = None
    wall: datetime | None = None
    plane: Any = field(default=None, compare=False, repr=False)

    @property
    def score(self) -> float:
        """The highest changed fraction over the zones."""
        return max(self.changed.values(), default=0.0)


def frame_from_report(r: T.FrameReport, zone_names: Sequence[str]) -> FrameScore:
    n = r.zone_count
    if r.zone_names:  # the library names the zones it reports (requests may change them)
        zone_names = [r.zone_names[z].decode() for z in range(n)]
    changed = {zone_names[z] if z < len(zone_names) else str(z): float(r.changed[z])
               for z in range(n)}
    mad = {zone_names[z] if z < len(zone_names) else str(z): float(r.mad[z])
           for z in range(n)}
    plane = None
    if r.plane:
        plane = Plane(ctypes.addressof(r.plane.contents), r.plane_width, r.plane_height,
                      r.plane_stride)
    return FrameScore(clip=r.clip, t=r.t, changed=changed, mad=mad, flags=FrameFlags(r.flags),
                      index=r.index, wall=to_datetime(r.wall), plane=plane)


@dataclass(frozen=True)
class Series:
    """Per-frame scores of one zone of one clip, as parallel arrays viewing the result's
    memory (numpy arrays, or read-only memoryviews without numpy): ``t`` (float64 seconds),
    ``changed`` and ``mad`` (float32), ``flags`` (uint8, :class:`FrameFlags`), ``index``
    (int64 frame numbers in the clip)."""

    clip: int
    zone: str
    t: Any
    changed: Any
    mad: Any
    flags: Any
    index: Any = None

    def __len__(self) -> int:
        return len(self.t)


def iso(dt: datetime | None) -> str:
    """A UTC datetime as the library writes it ("2026-07-04T14:05:02.000Z"); "-" for None."""
    if dt is None:
        return "-"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _clock(s: float) -> str:
    if not math.isfinite(s):
        return "-"
    ms = round(s * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


class _Handle:
    """Owns one ``vmo_result *``; views of its memory hold a reference to it."""

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr: ctypes.c_void_p) -> None:
        self.ptr = ptr

    def __del__(self) -> None:
        try:
            if self.ptr:
                api.vmo_result_destroy(ctypes.byref(self.ptr))
        except Exception:
            pass


class Result:
    """The answer of a scan, a push stream or a request.

    ``clips``, ``segments`` (motion events), ``lighting`` (lighting changes), ``events``
    (both, in the library's order) and ``zones`` are plain lists of dataclasses;
    :meth:`series`, :meth:`frames` and :meth:`heatmap` read the per-frame data (kept only
    when the ``frames`` option was on, resp. ``heatmap``).
    """

    def __init__(self, ptr: ctypes.c_void_p) -> None:
        self._h: _Handle | None = _Handle(ptr)
        p = ptr
        n = api.vmo_result_clip_count(p)
        clips = []
        for i in range(n):
            ci = T.sized(T.ClipInfo)
            check(api.vmo_result_clip(p, i, ctypes.byref(ci)))
            clips.append(Clip._from_c(ci, i))
        self.clips: list[Clip] = clips
        self.zones: list[str] = [text(api.vmo_result_zone_name(p, z)) or ""
                                 for z in range(api.vmo_result_zone_count(p))]
        events = []
        for e in range(api.vmo_result_event_count(p)):
            ev = T.sized(T.Event)
            check(api.vmo_result_event(p, e, ctypes.byref(ev)))
            sources = []
            for s in range(ev.source_count):
                es = T.sized(T.EventSource)
                check(api.vmo_result_event_source(p, e, s, ctypes.byref(es)))
                sources.append(EventSource(self._clip_path(es.clip), es.start, es.end,
                                           es.clip_start, es.clip_end, es.clip))
            events.append(segment_from_c(ev, self._zone_name, self._clip_path, sources))
        self.events: list[Segment] = events

    def _zone_name(self, z: int) -> str:
        return self.zones[z] if 0 <= z < len(self.zones) else "frame"

    def _clip_path(self, c: int) -> str:
        return self.clips[c].path if 0 <= c < len(self.clips) else ""

    @property
    def _ptr(self) -> ctypes.c_void_p:
        if self._h is None:
            raise StateError("the result is closed")
        return self._h.ptr

    # ---- lists ----
    @property
    def segments(self) -> list[Segment]:
        """Motion events, in the library's order (wall clock, else clip; start; zone)."""
        return [e for e in self.events if e.kind == "motion"]

    @property
    def lighting(self) -> list[Segment]:
        """Global lighting changes (reported, not counted as motion)."""
        return [e for e in self.events if e.kind == "lighting"]

    @property
    def motion(self) -> bool:
        """Whether any motion event was found."""
        return any(e.kind == "motion" for e in self.events)

    # ---- per-frame data (zero copy) ----
    def _zone_index(self, zone: int | str) -> int:
        if isinstance(zone, str):
            try:
                return self.zones.index(zone)
            except ValueError:
                raise error_for(-14, f"no zone named {zone!r} (zones: {self.zones})",
                                strerror(-14)) from None
        return zone

    def series(self, clip: int = 0, zone: int | str = 0) -> Series:
        """Per-frame scores of ``zone`` (index or name) in ``clip``, without copying.
        Empty unless the ``frames`` option was on."""
        z = self._zone_index(zone)
        s = T.sized(T.Series)
        check(api.vmo_result_series(self._ptr, clip, z, ctypes.byref(s)))
        n = s.count
        owner = self._h
        return Series(clip=clip, zone=self.zones[z],
                      t=wrap_array(s.t, ctypes.c_double, "d", n, owner),
                      changed=wrap_array(s.changed, ctypes.c_float, "f", n, owner),
                      mad=wrap_array(s.mad, ctypes.c_float, "f", n, owner),
                      flags=wrap_array(s.flags, ctypes.c_uint8, "B", n, owner),
                      index=wrap_array(s.index, ctypes.c_int64, "q", n, owner))

    def frames(self, clip: int | None = None) -> Iterator[FrameScore]:
        """Every analysed frame's scores (all clips, or one), from the series."""
        clips = range(len(self.clips)) if clip is None else [clip]
        for c in clips:
            per_zone = [self.series(c, z) for z in range(len(self.zones))]
            if not per_zone:
                continue
            first = per_zone[0]
            wall0 = self.clips[c].wall_start
            for i in range(len(first)):
                t = float(first.t[i])
                wall = None
                if wall0 is not None:
                    from datetime import timedelta
                    wall = wall0 + timedelta(seconds=t)
                yield FrameScore(
                    clip=c, t=t,
                    changed={s.zone: float(s.changed[i]) for s in per_zone},
                    mad={s.zone: float(s.mad[i]) for s in per_zone},
                    flags=FrameFlags(int(first.flags[i])),
                    index=int(first.index[i]) if first.index is not None else None, wall=wall)

    def heatmap(self, clip: int = 0) -> Any:
        """How often each cell of a 32x18 grid held motion in ``clip`` (the ``heatmap``
        option): a (height, width) uint32 view of the result's memory."""
        counts = ctypes.POINTER(ctypes.c_uint32)()
        w, h = ctypes.c_int(), ctypes.c_int()
        check(api.vmo_result_heatmap(self._ptr, clip, ctypes.byref(counts), ctypes.byref(w),
                                     ctypes.byref(h)))
        return wrap_array(counts, ctypes.c_uint32, "I", w.value * h.value, self._h,
                          shape=(h.value, w.value))

    # ---- JSON, bytes ----
    def to_json(self, *, frames: bool = False, pretty: bool = False) -> str:
        """The JSON document of the CLI's ``--json`` contract (docs/json.md)."""
        out = ctypes.c_void_p()
        flags = (1 if frames else 0) | (2 if pretty else 0)
        check(api.vmo_result_to_json(self._ptr, flags, ctypes.byref(out)))
        try:
            return ctypes.string_at(out.value).decode("utf-8")
        finally:
            api.vmo_free(out)

    def to_dict(self, *, frames: bool = False) -> dict[str, Any]:
        """The JSON contract as Python objects."""
        return json.loads(self.to_json(frames=frames))

    def to_bytes(self) -> bytes:
        """The result as versioned, checksummed bytes (``vmo_result_save``)."""
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        check(api.vmo_result_save(self._ptr, ctypes.byref(data), ctypes.byref(size)))
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            api.vmo_free(data)

    @classmethod
    def from_bytes(cls, data: bytes) -> Result:
        """A result from :meth:`to_bytes` (CorruptError, UnsupportedError)."""
        buf = bytes(data)
        h = ctypes.c_void_p()
        check(api.vmo_result_load(buf, len(buf), ctypes.byref(h)))
        return cls(h)

    def __reduce__(self) -> Any:
        return (Result.from_bytes, (self.to_bytes(),))

    # ---- lifetime ----
    def close(self) -> None:
        """Drops this object's hold on the C result (views still alive keep it)."""
        self._h = None

    def __enter__(self) -> Result:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- text ----
    def __repr__(self) -> str:
        return (f"<vidmotion.Result clips={len(self.clips)} segments={len(self.segments)} "
                f"lighting={len(self.lighting)} zones={self.zones}>")

    def __str__(self) -> str:
        lines = []
        for c in self.clips:
            state = c.status if c.status != "error" else f"error: {c.error}"
            wall = f", starts {iso(c.wall_start)}" if c.wall_start else ""
            lines.append(f"{c.path}: {c.frames} frames, {c.duration:.2f} s, "
                         f"{c.width}x{c.height} {c.codec}{wall} [{state}]")
        segs = self.segments
        lines.append(f"{len(segs)} motion segment{'s' if len(segs) != 1 else ''} in zones "
                     f"{', '.join(self.zones)}" + (":" if segs else ""))
        lines += ["  " + str(s) for s in segs]
        if self.lighting:
            lines.append(f"{len(self.lighting)} lighting change(s):")
            lines += ["  " + str(s) for s in self.lighting]
        return "\n".join(lines)


def merge(parts: Sequence[Result]) -> Result:
    """Merges results of disjoint sets of clips into the answer of one request over all of
    them (``vmo_result_merge``): events are joined across contiguous clips. Raises
    ``InvalidArgumentError`` when the parts were analysed differently and ``OverlapError`` when a
    clip is in two parts."""
    arr = (ctypes.c_void_p * len(parts))(*(p._ptr.value for p in parts))
    h = ctypes.c_void_p()
    check(api.vmo_result_merge(arr, len(parts), ctypes.byref(h)))
    return Result(h)
