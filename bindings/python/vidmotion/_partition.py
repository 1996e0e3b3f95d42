"""Planning a request over many clips for several processes: cameras, wall-clock order,
the checks one request makes before decoding, and contiguous runs.

Pure Python (no Dask, no library call), so the plan can be tested on its own. It lives apart
from :mod:`vidmotion.distributed` because the rules it encodes are the library's own:

* a request must not mix cameras (two cameras' clips overlap in time: VMO_ERR_OVERLAP);
* a camera's clips are listed by wall-clock start, so that contiguous clips are neighbours;
* one request refuses duplicate or overlapping clips and, with a wall-clock window, clips
  without a wall-clock start. A worker sees only its own run, so the driver makes the same
  checks over the whole camera, with the library's messages.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["ClipTime", "Refusal", "default_camera", "group_by_camera", "order_clips", "check_clips",
           "split_runs", "run_size"]

#: The time stamps the library reads from file names (vmo_time_from_filename):
#: "YYYYMMDD{T,_,-}HHMMSS" or "YYYY-MM-DD{T,_,space}HH{:,-}MM{:,-}SS", at the start of a
#: run of digits, with a month and a day that exist.
_STAMP = re.compile(r"(?<!\d)\d{4}(?:(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[Tt_-]\d{6}"
                    r"|-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt_ ]\d{2}([:-])\d{2}\1\d{2})")

#: Two clips may overlap by this much (seconds) before a request refuses them: container
#: durations and creation_time tags are rounded (lib/request.c, check_overlaps).
OVERLAP_SLACK = 0.5


@dataclass(frozen=True)
class ClipTime:
    """What a probe found out about a clip without decoding it.

    ``wall_start`` is POSIX seconds (NaN: unknown), from the caller, the creation_time tag
    or the file name, in the library's order of preference; ``duration`` the container's
    declared length (0 when unknown or when the clip cannot be opened); ``untimed`` is True
    when the clip opens fine but has no wall-clock start (a wall-clock window refuses it).
    ``file_id`` identifies the file behind the path (inode, size, modification time, as the
    worker saw them; None if it could not stat it): the library refuses the same file twice
    under two names (a link), and it compares inodes.
    """

    path: str
    wall_start: float = math.nan
    duration: float = 0.0
    untimed: bool = False
    file_id: tuple[int, int, int] | None = None


def default_camera(path: str) -> str:
    """The camera a clip belongs to, from its path: the folder plus the file name up to its
    time stamp ("/archive/cam1_20260704T140000Z.mp4" -> "/archive/cam1"), or the folder alone
    when the name starts with the stamp or has none ("/archive/door/2026-07-04_14-00-00.mp4"
    -> "/archive/door"). A URL's query string is ignored."""
    clean = path.split("?", 1)[0] if "://" in path else path
    folder, _, name = clean.rpartition("/")
    m = _STAMP.search(name)
    prefix = name[:m.start()].rstrip("_-. ") if m else ""
    if not prefix:
        return folder or "."
    return f"{folder}/{prefix}" if folder else prefix


def group_by_camera(paths: Iterable[str], camera: Callable[[str], str] | None = None
                    ) -> dict[str, list[int]]:
    """Positions of the clips of each camera, cameras sorted by key, positions in input
    order (a stable grouping: equal inputs give equal plans)."""
    key = camera or default_camera
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(paths):
        groups.setdefault(str(key(p)), []).append(i)
    return dict(sorted(groups.items()))


def order_clips(times: Sequence[ClipTime]) -> list[int]:
    """Positions of one camera's clips in request order: by wall-clock start, clips whose
    start is unknown last; ties and unknown starts by path, then input position."""
    def key(i: int) -> tuple[bool, float, str, int]:
        w = times[i].wall_start
        known = math.isfinite(w)
        return (not known, w if known else 0.0, times[i].path, i)
    return sorted(range(len(times)), key=key)


@dataclass(frozen=True)
class Refusal:
    """Why one request would refuse these clips: the library's status code and message."""

    code: int
    message: str


def check_clips(times: Sequence[ClipTime], wall_window: bool) -> Refusal | None:
    """The checks one request makes before decoding (lib/request.c), over one camera's
    clips: the same file twice, clips overlapping by more than OVERLAP_SLACK seconds of
    wall-clock time (VMO_ERR_OVERLAP, -18), then, with a wall-clock window, a clip that
    opens but has no wall-clock start (VMO_ERR_NO_TIME_SOURCE, -17). None when they pass.

    The library compares every pair; this sweeps the clips by start time, keeping the one
    that ends last, which finds an overlap exactly when some pair has one (the pair named
    may differ from the library's when several overlap)."""
    seen: dict[object, str] = {}
    for t in times:
        keys = [os.path.normpath(t.path) if "://" not in t.path else t.path]
        if t.file_id is not None:
            keys.append(t.file_id)
        for k in keys:
            if k in seen:
                return Refusal(-18, f"'{seen[k]}' and '{t.path}' are the same file")
        for k in keys:
            seen[k] = t.path
    timed = sorted((t for t in times if math.isfinite(t.wall_start) and t.duration > 0),
                   key=lambda t: (t.wall_start, t.path))
    last: ClipTime | None = None
    for t in timed:
        if last is not None:
            overlap = (min(last.wall_start + last.duration, t.wall_start + t.duration)
                       - t.wall_start)
            if overlap > OVERLAP_SLACK:
                return Refusal(-18, f"'{last.path}' and '{t.path}' overlap by {overlap:.2f} s "
                                    "of wall-clock time")
        if last is None or t.wall_start + t.duration > last.wall_start + last.duration:
            last = t
    if wall_window:
        for t in times:
            if t.untimed:
                return Refusal(-17, f"'{t.path}' has no wall-clock start (no creation_time "
                                    "tag, no time in its name, none given) for a wall-clock "
                                    "window")
    return None


def run_size(clips: int, slots: int, most: int = 64, per_thread: int = 16) -> int:
    """Clips per run when the caller does not say: about ``per_thread`` runs per worker
    thread, so that the last runs leave few threads idle and a slow run or a lost worker
    delays the answer little, and at most ``most`` clips, so that a retry repeats little
    work; at least one. (A task costs the scheduler about a millisecond; a clip, a decode.)"""
    if clips <= 0:
        return 1
    return max(1, min(most, math.ceil(clips / (per_thread * max(1, slots)))))


def split_runs(count: int, size: int) -> list[range]:
    """``count`` positions cut into contiguous runs of at most ``size``, of nearly equal
    lengths (7 by 3 -> 3, 2, 2: no run of one at the end)."""
    if count <= 0:
        return []
    n = math.ceil(count / max(1, size))
    base, extra = divmod(count, n)
    runs, at = [], 0
    for k in range(n):
        length = base + (1 if k < extra else 0)
        runs.append(range(at, at + length))
        at += length
    return runs
