"""vidmotion: motion analysis for video clips (doorbells, security cameras).

A pure-Python binding (ctypes) of the C library ``libvidmotion.so.0``::

    import vidmotion

    result = vidmotion.scan("clip.mp4", zones={"porch": "0.1,0.4,0.6,1"})
    for seg in result.segments:
        print(seg.zone, seg.start, seg.end, seg.peak, seg.wall_start)

The library is found through ``$VIDMOTION_LIBRARY`` (the file, or its folder), next to
this package, or on the system's library path (see :func:`library_path`).

Main pieces: :func:`scan` and :func:`iter_frames` (one call), :class:`Analyzer` (options,
zones, callbacks, the push API for frames you already have, requests), :class:`Request`
(many clips, a wall-clock window), :class:`Result` (``clips``, ``segments``, ``lighting``,
``series()`` as zero-copy numpy arrays, ``to_json()``), and one :class:`Error` subclass per
status code of the library.

Threads
-------
* The GIL is released during every call into the library (ctypes), so scans in different
  threads, each with its own :class:`Analyzer`, run in parallel.
* One :class:`Analyzer` may be shared by threads: its calls are serialized by a lock.
  :meth:`Analyzer.cancel` is safe from any thread (and from signal handlers).
  Calling an analyzer from inside its own callback raises :class:`StateError`.
* :class:`Result` objects are read-only after creation and safe to share; the arrays of
  :meth:`Result.series` keep the C result alive.
* :class:`Config` and :class:`Request` are plain objects: do not modify one from two
  threads at once.
* Callbacks run on the thread that made the call, except during :meth:`Analyzer.run`
  (requests; the library's worker threads, one callback at a time) and
  :meth:`Analyzer.iter_frames` (a helper thread). An exception raised in a callback stops
  the scan and is re-raised by the call; returning a true value stops it with
  :class:`CancelledError` (whose ``result`` is the partial result).
* The analysis plane given to ``on_frame`` (``frame.plane``) is valid during that call
  only: :meth:`Plane.copy` it to keep it.
* :func:`set_log_handler` installs a process-wide handler that may be called from any
  thread, concurrently.
"""

from __future__ import annotations

from ._lib import library_path
from ._time import to_datetime
from .analyzer import Analyzer, FrameStream, Progress
from .api import (
    CpuFlags,
    cpu_flags,
    iter_frames,
    library_version,
    scan,
    set_cpu_mask,
    version,
)
from .config import Config, OptionInfo, Zone, options
from .errors import *  # noqa: F403 - the Error classes
from .errors import ERRORS, Error, error_for
from .export import ExportOutput, ExportReport, export, thumbnails, verify_manifest
from .index import IndexInfo, check_index, probe
from .log import log_to_logging, set_log_handler
from .request import Request, format_time, parse_time
from .result import (
    Clip,
    ClipFlags,
    EventFlags,
    EventSource,
    FrameFlags,
    FrameScore,
    Plane,
    Result,
    Segment,
    Series,
    merge,
)

__version__ = "0.1.0"

__all__ = [
    "Analyzer", "Clip", "ClipFlags", "Config", "CpuFlags", "ERRORS", "Error", "EventFlags",
    "EventSource", "ExportOutput", "ExportReport", "FrameFlags", "FrameScore", "FrameStream",
    "IndexInfo", "OptionInfo", "Plane", "Progress", "Request", "Result", "Segment", "Series",
    "Zone", "check_index", "cpu_flags", "error_for", "export", "format_time", "iter_frames",
    "library_path", "library_version", "log_to_logging", "merge", "options", "parse_time",
    "probe",
    "scan", "set_cpu_mask", "set_log_handler", "thumbnails", "to_datetime",
    "verify_manifest", "version",
] + [name for name in dir() if name.endswith("Error")]
