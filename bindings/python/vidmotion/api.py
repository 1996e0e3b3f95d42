"""One-call helpers: :func:`scan`, :func:`iter_frames`, and process-wide settings."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ._lib import api, library_path
from .analyzer import (
    Analyzer,
    EventCallback,
    FrameCallback,
    FrameStream,
    ProgressCallback,
    Source,
)
from .config import Config, Zone, ZoneSpec
from .request import Request, WindowEnd
from .result import Result

__all__ = ["scan", "iter_frames", "version", "library_version", "library_path", "CpuFlags",
           "cpu_flags", "set_cpu_mask"]


def scan(source: Source | Iterable[str | os.PathLike[str]], *,
         zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None = None,
         masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None = None,
         threshold: int | None = None, width: int | None = None, fps: float | None = None,
         frames: bool | None = None, window: tuple[WindowEnd, WindowEnd] | None = None,
         config: Config | None = None, on_frame: FrameCallback | None = None,
         on_event: EventCallback | None = None, on_progress: ProgressCallback | None = None,
         **options: Any) -> Result:
    """Scans a clip (a path, bytes, or a binary file object) or several clips (a list of
    paths, analysed as one request) and returns the :class:`Result`.

    ``zones`` maps names to shapes (``{"porch": "0.1,0.4,0.6,1"}``); ``masks`` are
    privacy masks; ``threshold``, ``width``, ``fps``, ``frames`` (keep per-frame scores)
    and any other option of :func:`vidmotion.options` are keyword arguments; ``window``
    = (start, end) limits a request to a time span (datetimes for wall-clock time)."""
    opts = dict(threshold=threshold, width=width, fps=fps, frames=frames, **options)
    with Analyzer(config, zones=zones, masks=masks, on_frame=on_frame, on_event=on_event,
                  on_progress=on_progress, **{k: v for k, v in opts.items() if v is not None}
                  ) as an:
        if window is not None or (not isinstance(source, (str, os.PathLike, bytes, bytearray,
                                                           memoryview))
                                  and not hasattr(source, "read")):
            paths = [source] if isinstance(source, (str, os.PathLike)) else source
            return an.run(Request(paths, window=window))  # type: ignore[arg-type]
        return an.scan(source)  # type: ignore[arg-type]


def iter_frames(source: Source, *, planes: bool = False, config: Config | None = None,
                zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None = None,
                masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None = None,
                **options: Any) -> FrameStream:
    """Iterates over the per-frame scores of one clip as it is scanned; the stream's
    ``result`` holds the whole result after the loop. See :meth:`Analyzer.iter_frames`."""
    an = Analyzer(config, zones=zones, masks=masks,
                  **{k: v for k, v in options.items() if v is not None})
    return FrameStream(an, source, planes=planes, owns_analyzer=True)


def library_version() -> str:
    """Version of the loaded C library ("major.minor.patch")."""
    return (api.vmo_version_string() or b"").decode()


def version() -> tuple[int, int, int]:
    v = api.vmo_version()
    return (v >> 16, (v >> 8) & 255, v & 255)


class CpuFlags(enum.IntFlag):
    """SIMD features the kernels use (``VMO_CPU_*``)."""

    SSE2 = 1 << 0
    AVX2 = 1 << 1
    NEON = 1 << 8


def cpu_flags() -> CpuFlags:
    """Features detected on this CPU and OS, after the mask."""
    return CpuFlags(api.vmo_cpu_flags())


def set_cpu_mask(mask: int) -> None:
    """Restricts the kernels to ``mask`` (0 = scalar C only) for analyzers created
    afterwards (the environment variable VMO_CPU_MASK sets the initial mask)."""
    api.vmo_set_cpu_mask(mask & 0xFFFFFFFF)


_ = library_path  # re-exported
