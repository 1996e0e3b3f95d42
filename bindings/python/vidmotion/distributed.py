"""Requests and motion indexes over a Dask cluster (``dask.distributed``).

A month of footage from a thousand doorbells is millions of clips: more than one machine
scans in time. This module spreads one request over the workers of a Dask cluster, from a
laptop's ``LocalCluster`` to many hosts, and returns exactly what one process would::

    from dask.distributed import Client
    from vidmotion import distributed

    client = Client("tcp://scheduler:8786")
    answer = distributed.request(client, paths, ("2026-07-04T14:00:00Z", None),
                                 {"porch": "0.1,0.4,0.6,1"})
    for camera, result in answer.items():       # one vidmotion.Result per camera
        for seg in result.segments:
            print(camera, seg.wall_start, seg.wall_end, seg.zone)
    print(answer.failed)                         # clips that could not be decoded

How a request runs
------------------
1. **Cameras.** Clips are grouped per camera (``camera=``: a function of the path; by
   default the folder plus the file name up to its time stamp). Two cameras' clips are
   never in one library request: they overlap in time, and a request refuses that.
2. **Probe** (on the workers, in batches). Each clip's container header is read for its
   wall-clock start (the caller's, else the creation_time tag, else the file name: the
   library's own rules) and its declared length. Nothing is decoded; the driver never
   opens a clip, so it needs no access to the storage.
3. **Plan** (on the driver). A camera's clips are ordered by wall-clock start (clips with
   none last, by path) and checked as one request would check them (the same file twice,
   clips overlapping in time, no time source for a wall-clock window: the library's error
   classes and messages). The order is cut into contiguous runs (``run_size`` clips).
4. **Scan.** Each run is one library request on a worker (``Analyzer.run``), one clip at a
   time per Dask thread (the ``jobs`` option, default 1: Dask's threads are the
   parallelism; the cores of a worker are shared out between its threads for decoding, as
   the library shares them between a request's clips). A clip whose motion index
   (``CLIP.vmoidx``) is present and valid for these settings is answered from it without
   decoding (``use_index=True``); a clip that fails to decode is listed with its error and
   does not fail the request.
5. **Merge.** Per camera, one task merges the runs' results with the library's own merge
   (``vmo_result_merge``): events that cross the boundary between two runs are joined,
   exactly as in one request over all of the camera's clips.

Results travel between processes as the library's checksummed bytes
(``Result.to_bytes``). A task whose worker dies is run again on another worker by the
scheduler (up to Dask's ``distributed.scheduler.allowed-failures``, default 3); a task that
raises is retried ``retries`` times (``client.map(..., retries=)``).

What the answer is
------------------
:class:`DistributedResult` maps each camera to one :class:`vidmotion.Result`, cameras sorted
by key. A camera's result is the result of one request over its clips in the order above:
``vidmotion query --json`` (``vidmotion scan --json`` with ``use_index=False``) given the
same clips in the order of ``result.clips`` prints the same JSON, whatever the runs and the
number of workers.

Workers
-------
Every worker imports this same package and loads the same libvidmotion
(``$VIDMOTION_LIBRARY``). :func:`request` and :func:`index` compare the package and library
versions of the driver and of every worker first (:func:`check_workers`) and refuse to run
on a mismatch; every task checks again (workers may join later). The driver needs the
library too: it checks the request before anything is scheduled and reads the results.
"""

from __future__ import annotations

import math
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

try:
    import distributed as _dd
except ImportError as _e:  # pragma: no cover - exercised only without Dask
    raise ImportError("vidmotion.distributed needs Dask's distributed scheduler "
                      "(Debian: apt install python3-distributed; pip: distributed)") from _e

from . import _partition as plan
from ._lib import strerror
from ._time import TimeLike, to_posix
from .analyzer import Analyzer
from .config import Zone, ZoneSpec, normalize_zones
from .index import probe
from .errors import error_for
from .request import TIME_WALL, Request, WindowEnd, _window_end
from .result import Clip, ClipFlags, Result, Segment, merge

__all__ = ["request", "index", "check_workers", "DistributedResult", "RunStats", "PartStats",
           "IndexReport", "IndexedClip", "WorkerMismatchError", "default_camera"]

default_camera = plan.default_camera

#: A clip: its path (or an FFmpeg URL), or (path, wall-clock start) when the caller knows
#: the start (a datetime, naive = UTC, or POSIX seconds).
ClipArg = Union[str, "os.PathLike[str]", tuple[Union[str, "os.PathLike[str]"], TimeLike]]
CameraKey = Callable[[str], str]

#: Fault injection for tests: when set in a worker process, called as
#: ``_task_hook(kind, paths)`` at the start of every scan task there (kind "scan").
_task_hook: Callable[[str, list[str]], None] | None = None


class WorkerMismatchError(RuntimeError):
    """A worker runs another version of the package or of libvidmotion than the driver:
    results made by different versions must not be merged."""


# ------------------------------------------------------------------------------------------
# What travels to the workers and back (plain data: pickled by Dask)
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Job:
    """The analysis settings of a request, the same for every run."""

    zones: tuple[Zone, ...]
    options: dict[str, Any]  # analyzer options (threshold, width, frames, ...)
    window: tuple[WindowEnd, WindowEnd] | None
    select: tuple[str, ...]
    request_options: dict[str, float]  # sensitivity, use_index, write_index
    versions: tuple[str, str]  # (package, library) of the driver


@dataclass(frozen=True)
class PartStats:
    """One scan task: where it ran and how long the library worked on its clips."""

    worker: str  # the Dask worker's address
    pid: int
    clips: int
    seconds: float  # inside the library request (the work), not counting scheduling


@dataclass(frozen=True)
class _Part:
    data: bytes  # Result.to_bytes() of the run
    stats: PartStats


@dataclass(frozen=True)
class _Merged:
    data: bytes
    parts: tuple[PartStats, ...]
    seconds: float


def _identity() -> tuple[str, str, str]:
    """(package version, library version, library path) of this process."""
    import vidmotion
    return vidmotion.__version__, vidmotion.library_version(), vidmotion.library_path()


def _check_here(versions: tuple[str, str]) -> None:
    mine = _identity()
    if mine[:2] != tuple(versions):
        raise WorkerMismatchError(
            f"worker {socket.gethostname()} pid {os.getpid()} runs vidmotion {mine[0]} with "
            f"libvidmotion {mine[1]} ({mine[2]}), the driver {versions[0]} with "
            f"{versions[1]}")


def _where() -> tuple[str, int]:
    try:
        return _dd.get_worker().address, os.getpid()
    except ValueError:  # not inside a worker (tests calling the task directly)
        return f"{socket.gethostname()}:{os.getpid()}", os.getpid()


def _worker_threads() -> int:
    """The number of Dask threads of this worker (1 outside a worker)."""
    try:
        w = _dd.get_worker()
    except ValueError:
        return 1
    state = getattr(w, "state", None)  # distributed >= 2022.11 keeps it there
    return max(1, int(state.nthreads if state is not None else w.nthreads))


def _analyzer(job: _Job, *, on_worker: bool = False) -> Analyzer:
    """The job's analyzer. On a worker whose Dask threads each scan a clip, the cores are
    shared out as the library shares them between a request's parallel clips
    (lib/request.c): decoder threads = cores / Dask threads, no decoding thread of its own
    per clip when several clips run at once; unless the caller set these options. They do
    not change results (vmo_result_merge ignores them)."""
    options = dict(job.options)
    if on_worker:
        slots = _worker_threads()
        options.setdefault("threads", max(1, len(os.sched_getaffinity(0)) // slots))
        if slots > 1:
            options.setdefault("pipeline", False)
    return Analyzer(zones=list(job.zones), **options)


def _request(job: _Job, clips: Iterable[tuple[str, float]]) -> Request:
    rq = Request(window=job.window, select=list(job.select), options=job.request_options)
    for path, wall in clips:
        rq.add(path, wall if math.isfinite(wall) else None)
    return rq


# ------------------------------------------------------------------------------------------
# Tasks (run on the workers)
# ------------------------------------------------------------------------------------------

def _file_id(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _probe_clip(path: str, wall: float) -> plan.ClipTime:
    """Wall-clock start and declared length of one clip, from its container header alone
    (vmo_probe_file: nothing is decoded). A start given by the caller wins, as in a
    request; a clip that opens but has no wall clock is ``untimed``."""
    clip = probe(path)
    start = wall if math.isfinite(wall) else to_posix(clip.wall_start)
    opens = clip.status != "error"
    return plan.ClipTime(path, start, clip.duration if opens else 0.0,
                         untimed=opens and not math.isfinite(start), file_id=_file_id(path))


def _probe_task(versions: tuple[str, str], groups: list[list[tuple[str, float]]]
                ) -> list[plan.ClipTime]:
    """Wall-clock start and declared length of every clip, read by the library itself."""
    _check_here(versions)
    return [_probe_clip(path, wall) for clips in groups for path, wall in clips]


def _scan_task(job: _Job, clips: list[tuple[str, float]]) -> _Part:
    """One contiguous run of one camera's clips, as one library request."""
    _check_here(job.versions)
    hook = _task_hook
    if hook is not None:
        hook("scan", [p for p, _ in clips])
    t0 = time.perf_counter()
    with _analyzer(job, on_worker=True) as an:
        res = an.run(_request(job, clips))
    seconds = time.perf_counter() - t0
    worker, pid = _where()
    return _Part(res.to_bytes(), PartStats(worker, pid, len(clips), seconds))


def _merge_task(versions: tuple[str, str], *parts: _Part) -> _Merged:
    """One camera's runs, in order, merged by the library (events joined across runs)."""
    _check_here(versions)
    t0 = time.perf_counter()
    merged = merge([Result.from_bytes(p.data) for p in parts])
    data = merged.to_bytes()
    return _Merged(data, tuple(p.stats for p in parts), time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------

def check_workers(client: _dd.Client) -> dict[str, tuple[str, str, str]]:
    """(package version, library version, library path) of every worker, after checking
    that the versions equal the driver's (WorkerMismatchError otherwise, naming the
    workers). A worker that cannot import the package or load the library fails too."""
    mine = _identity()
    found = client.run(_identity, on_error="return")
    bad = {}
    for addr, got in found.items():
        if isinstance(got, BaseException):
            bad[addr] = f"{type(got).__name__}: {got}"
        elif tuple(got[:2]) != mine[:2]:
            bad[addr] = f"vidmotion {got[0]}, libvidmotion {got[1]} ({got[2]})"
    if bad:
        lines = "; ".join(f"{a}: {v}" for a, v in sorted(bad.items()))
        raise WorkerMismatchError(f"the driver runs vidmotion {mine[0]} with libvidmotion "
                                  f"{mine[1]}; workers differ: {lines}")
    return {a: tuple(v) for a, v in found.items()}  # type: ignore[misc]


def _entries(clips: Iterable[ClipArg]) -> list[tuple[str, float]]:
    out = []
    for c in clips:
        if isinstance(c, tuple):
            out.append((os.fspath(c[0]), to_posix(c[1])))
        else:
            out.append((os.fspath(c), math.nan))
    return out


def _slots(client: _dd.Client) -> int:
    return max(1, sum(client.nthreads().values()))


def _is_wall(window: tuple[WindowEnd, WindowEnd] | None) -> bool:
    return window is not None and any(_window_end(v)[0] == TIME_WALL for v in window)


class _Futures:
    """Futures of one call: cancelled together if the call fails or is interrupted."""

    def __init__(self, client: _dd.Client) -> None:
        self.client = client
        self.token = uuid.uuid4().hex[:12]
        self.live: list[Any] = []

    def keys(self, kind: str, n: int) -> list[str]:
        return [f"vidmotion-{kind}-{self.token}-{i}" for i in range(n)]

    def map(self, fn: Callable[..., Any], kind: str, *iterables: Sequence[Any],
            retries: int) -> list[Any]:
        n = len(iterables[0])
        if n == 0:
            return []
        futs = self.client.map(fn, *iterables, key=self.keys(kind, n), retries=retries)
        self.live += futs
        return futs

    def __enter__(self) -> _Futures:
        return self

    def __exit__(self, kind: Any, *exc: object) -> None:
        if kind is not None and self.live:
            self.client.cancel(self.live)
        self.live = []


def _probe(fs: _Futures, entries: list[tuple[str, float]], groups: dict[str, list[int]],
           size: int, versions: tuple[str, str], retries: int) -> list[plan.ClipTime]:
    """ClipTime of every entry, probed on the workers: each camera's clips cut into slices of
    at most ``size``, slices packed into tasks of at most ``size`` clips."""
    tasks: list[list[list[int]]] = [[]]
    filled = 0
    for positions in groups.values():
        for r in plan.split_runs(len(positions), size):
            if filled + len(r) > size and tasks[-1]:
                tasks.append([])
                filled = 0
            tasks[-1].append([positions[k] for k in r])
            filled += len(r)
    tasks = [t for t in tasks if t]
    futs = fs.map(_probe_task, "probe", [versions] * len(tasks),
                  [[[entries[i] for i in g] for g in t] for t in tasks], retries=retries)
    times: list[plan.ClipTime] = [plan.ClipTime("")] * len(entries)
    for t, found in zip(tasks, fs.client.gather(futs)):
        for i, ct in zip((i for g in t for i in g), found):
            times[i] = ct
    return times


def _camera_runs(groups: dict[str, list[int]], times: list[plan.ClipTime], wall_window: bool,
                 size: int) -> list[tuple[str, list[list[int]]]]:
    """Per camera, its clips in request order cut into contiguous runs, after the checks one
    request makes (the library's error, raised here before any scan)."""
    out = []
    for cam, positions in groups.items():
        mine = [times[i] for i in positions]
        refusal = plan.check_clips(mine, wall_window)
        if refusal is not None:
            raise error_for(refusal.code, f"camera {cam}: {refusal.message}",
                            strerror(refusal.code))
        ordered = [positions[k] for k in plan.order_clips(mine)]
        out.append((cam, [[ordered[k] for k in r]
                          for r in plan.split_runs(len(ordered), size)]))
    return out


@dataclass(frozen=True)
class RunStats:
    """How a distributed call went: sizes, times and where the work ran.

    ``work_seconds`` is the time the library spent inside the scan tasks (summed over
    tasks), ``seconds`` the whole call on the driver. :attr:`overhead_per_clip` is what
    distribution cost on top of the work, per clip."""

    clips: int
    cameras: int
    runs: int
    slots: int  # Dask worker threads when the call started
    seconds: float
    probe_seconds: float
    scan_seconds: float  # scans and merges, from submission to the last result
    work_seconds: float
    parts: tuple[PartStats, ...] = ()

    @property
    def overhead_per_clip(self) -> float:
        """(wall time of the call - work / worker threads) / clips: the seconds per clip
        that went to probing, scheduling, shipping and merging results, and to threads left
        idle (imbalance) - everything but the library's own work, spread perfectly."""
        if self.clips == 0:
            return 0.0
        return (self.seconds - self.work_seconds / self.slots) / self.clips

    @property
    def workers(self) -> tuple[str, ...]:
        """The workers that produced the parts of the answer."""
        return tuple(sorted({p.worker for p in self.parts}))


class DistributedResult(Mapping[str, Result]):
    """The answer of :func:`request`: one :class:`vidmotion.Result` per camera (cameras
    sorted by key), and :attr:`stats`. Each camera's result lists its clips by wall-clock
    start, as one request over them in that order would."""

    def __init__(self, results: dict[str, Result], stats: RunStats) -> None:
        self._results = results
        self.stats = stats

    def __getitem__(self, camera: str) -> Result:
        return self._results[camera]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def clips(self) -> list[tuple[str, Clip]]:
        """(camera, clip) for every clip."""
        return [(cam, c) for cam, r in self._results.items() for c in r.clips]

    @property
    def segments(self) -> list[tuple[str, Segment]]:
        """(camera, motion segment), camera after camera, each in the library's order."""
        return [(cam, s) for cam, r in self._results.items() for s in r.segments]

    @property
    def failed(self) -> list[tuple[str, Clip]]:
        """(camera, clip) for the clips that could not be analysed (``clip.error``)."""
        return [(cam, c) for cam, c in self.clips if not c.ok]

    def __repr__(self) -> str:
        n = sum(len(r.segments) for r in self._results.values())
        return (f"<vidmotion.distributed.DistributedResult cameras={len(self)} "
                f"clips={self.stats.clips} segments={n} failed={len(self.failed)}>")


def _prepare(zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None,
             masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None,
             window: tuple[WindowEnd, WindowEnd] | None, select: Iterable[str] | str | None,
             request_options: dict[str, float], options: dict[str, Any]) -> _Job:
    """The job, checked on the driver before anything is scheduled: a request over no clip
    raises what every run would (BadZoneError, UnknownZoneError, BadWindowError, ...)."""
    rq = Request(window=window, select=select, options=request_options)
    job = _Job(zones=tuple(normalize_zones(zones, masks)),
               options={k: v for k, v in options.items() if v is not None},
               window=rq.window, select=tuple(rq.select), request_options=dict(rq.options),
               versions=_identity()[:2])
    with _analyzer(job) as an:
        an.run(_request(job, []))
    return job


def request(client: _dd.Client, clips: Iterable[ClipArg],
            window: tuple[WindowEnd, WindowEnd] | None = None,
            zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None = None, *,
            masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None = None,
            select: Iterable[str] | str | None = None, sensitivity: float | None = None,
            use_index: bool = True, write_index: bool = False,
            camera: CameraKey | None = None, run_size: int | None = None, retries: int = 3,
            check_versions: bool = True, **options: Any) -> DistributedResult:
    """Runs one request over ``clips`` on the workers of ``client`` (see the module doc).

    ``window`` = (start, end) as for :class:`vidmotion.Request` (datetimes or ISO strings
    for wall-clock time, seconds from each clip's start, None for an open end); ``zones``
    and ``masks`` as for :func:`vidmotion.scan`; ``select``, ``sensitivity``,
    ``use_index`` (answer clips from a valid motion index: default True) and
    ``write_index`` are the request's options; other keyword arguments are analysis options
    (``threshold=6``, ``frames=True``, ``jobs=1``...). ``camera`` maps a path to its camera
    (default :func:`default_camera`); ``run_size`` is the number of clips per scan task
    (default: about sixteen tasks per worker thread, at most 64 clips).

    Raises what one request would raise before decoding (BadZoneError, UnknownZoneError,
    BadWindowError, OverlapError, NoTimeSourceError...), WorkerMismatchError, or the
    error of a task that failed ``retries`` + 1 times."""
    t0 = time.perf_counter()
    ropts = {"use_index": float(use_index), "write_index": float(write_index)}
    if sensitivity is not None:
        ropts["sensitivity"] = float(sensitivity)
    options.setdefault("jobs", 1)
    job = _prepare(zones, masks, window, select, ropts, options)
    if check_versions:
        check_workers(client)
    entries = _entries(clips)
    groups = plan.group_by_camera((p for p, _ in entries), camera)
    slots = _slots(client)
    size = run_size or plan.run_size(len(entries), slots)
    with _Futures(client) as fs:
        times = _probe(fs, entries, groups,  # a probe is cheap: bigger batches
                       plan.run_size(len(entries), slots, most=256, per_thread=4),
                       job.versions, retries)
        t1 = time.perf_counter()
        cameras = _camera_runs(groups, times, _is_wall(job.window), size)
        runs = [(cam, [entries[i] for i in r]) for cam, rs in cameras for r in rs]
        parts = fs.map(_scan_task, "scan", [job] * len(runs), [r for _, r in runs],
                       retries=retries)
        merges, at = [], 0
        for k, (cam, rs) in enumerate(cameras):
            mine, at = parts[at:at + len(rs)], at + len(rs)
            merges.append(client.submit(_merge_task, job.versions, *mine,
                                        key=f"vidmotion-merge-{fs.token}-{k}",
                                        retries=retries))
        fs.live += merges
        del parts
        merged = client.gather(merges)
    t2 = time.perf_counter()
    results = {cam: Result.from_bytes(m.data) for (cam, _), m in zip(cameras, merged)}
    all_parts = tuple(p for m in merged for p in m.parts)
    stats = RunStats(clips=len(entries), cameras=len(cameras), runs=len(runs), slots=slots,
                     seconds=time.perf_counter() - t0, probe_seconds=t1 - t0,
                     scan_seconds=t2 - t1, work_seconds=sum(p.seconds for p in all_parts),
                     parts=all_parts)
    return DistributedResult(results, stats)


# ------------------------------------------------------------------------------------------
# Motion indexes
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexedClip:
    """One clip of :func:`index`: ``state`` is "indexed" (written now), "valid" (a valid
    index for these settings was there already) or "error" (``error_code``, ``error``)."""

    path: str
    camera: str
    state: str
    error_code: int = 0
    error: str | None = None
    worker: str = ""


@dataclass(frozen=True)
class IndexReport:
    """What :func:`index` did, clip by clip (cameras sorted, clips by path), and how long
    it took (``stats``: the same fields as a request's)."""

    clips: list[IndexedClip]
    stats: RunStats
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[IndexedClip]:
        return [c for c in self.clips if c.state == "error"]


def _index_task(job: _Job, camera: str, clips: list[tuple[str, float]]
                ) -> tuple[list[IndexedClip], PartStats]:
    """Indexes a run of clips: each one through a request of its own that answers it from
    a valid index (nothing to do) or decodes it whole and writes its index."""
    _check_here(job.versions)
    from .index import check_index
    worker, pid = _where()
    out = []
    t0 = time.perf_counter()
    with _analyzer(job, on_worker=True) as an:
        for path, wall in clips:
            rq = _request(job, [(path, wall)])
            try:
                c = an.run(rq).clips[0]
            except Exception as e:  # a request error: this clip only
                code = getattr(e, "code", -1)
                out.append(IndexedClip(path, camera, "error", code, str(e), worker))
                continue
            if not c.ok:
                out.append(IndexedClip(path, camera, "error", c.error_code, c.error, worker))
            elif ClipFlags.INDEXED in c.flags:
                out.append(IndexedClip(path, camera, "valid", worker=worker))
            else:
                info = check_index(path)
                out.append(IndexedClip(path, camera, "indexed", worker=worker) if info.ok else
                           IndexedClip(path, camera, "error", info.status,
                                       f"{path}: the index was not written "
                                       f"({strerror(info.status)})", worker))
    return out, PartStats(worker, pid, len(clips), time.perf_counter() - t0)


def index(client: _dd.Client, clips: Iterable[ClipArg], *, force: bool = False,
          camera: CameraKey | None = None, run_size: int | None = None, retries: int = 3,
          check_versions: bool = True, zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None
          = None, masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None = None,
          **options: Any) -> IndexReport:
    """Writes the motion index (``CLIP.vmoidx``, next to the clip: the storage must be
    writable by the workers) of every clip that has no valid one for these analysis options
    (all of them with ``force=True``), on the workers of ``client``. Use the same options
    as the later requests: an index made with another width or threshold is not used.

    Clips are grouped per camera and cut into contiguous runs by path (indexing a clip
    does not depend on its neighbours, so no probe is needed). A clip that fails is
    reported (``IndexReport.failed``), not raised."""
    t0 = time.perf_counter()
    ropts = {"use_index": 0.0 if force else 1.0, "write_index": 1.0}
    options.setdefault("jobs", 1)
    job = _prepare(zones, masks, None, None, ropts, options)
    if check_versions:
        check_workers(client)
    entries = _entries(clips)
    groups = plan.group_by_camera((p for p, _ in entries), camera)
    size = run_size or plan.run_size(len(entries), _slots(client))
    runs = []
    for cam, positions in groups.items():
        ordered = sorted(positions, key=lambda i: (entries[i][0], i))
        runs += [(cam, [entries[ordered[k]] for k in r])
                 for r in plan.split_runs(len(ordered), size)]
    with _Futures(client) as fs:
        futs = fs.map(_index_task, "index", [job] * len(runs), [c for c, _ in runs],
                      [r for _, r in runs], retries=retries)
        done = client.gather(futs)
    found = [c for cs, _ in done for c in cs]
    parts = tuple(p for _, p in done)
    counts = {s: sum(1 for c in found if c.state == s) for s in ("indexed", "valid", "error")}
    secs = time.perf_counter() - t0
    stats = RunStats(clips=len(entries), cameras=len(groups), runs=len(runs),
                     slots=_slots(client), seconds=secs, probe_seconds=0.0, scan_seconds=secs,
                     work_seconds=sum(p.seconds for p in parts), parts=parts)
    return IndexReport(found, stats, counts)

