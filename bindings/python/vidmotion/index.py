"""Motion index: a sidecar (CLIP.vmoidx) that answers later requests without decoding."""

from __future__ import annotations

import ctypes
import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from . import _types as T
from ._lib import api, strerror
from ._time import to_datetime
from .errors import Error, error_for

__all__ = ["IndexInfo", "check_index", "probe"]


@dataclass(frozen=True)
class IndexInfo:
    """What :func:`check_index` found. ``status`` is 0 for a valid index, else the code
    (IndexStaleError, IndexCorruptError or NotFoundError's); see :attr:`exception`."""

    status: int
    version: int
    grid_width: int
    grid_height: int
    analysis_width: int
    analysis_height: int
    frames: int
    clip_size: int
    index_size: int
    duration: float
    wall_start: datetime | None

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def exception(self) -> Error | None:
        return None if self.status == 0 else error_for(self.status, strerror(self.status),
                                                       strerror(self.status))


if TYPE_CHECKING:
    from .result import Clip


def check_index(clip_path: str | os.PathLike[str],
                index_path: str | os.PathLike[str] | None = None) -> IndexInfo:
    """Checks the motion index of a clip (default ``clip_path + ".vmoidx"``) against the
    clip and its own checksum. Returns its description (``ok`` False for a stale, corrupt
    or missing index); raises only for other failures (bad arguments, I/O)."""
    info = T.sized(T.IndexInfo)
    rc = api.vmo_index_check(os.fsencode(clip_path),
                             os.fsencode(index_path) if index_path is not None else None,
                             ctypes.byref(info))
    if rc not in (0, -20, -21, -4):
        raise error_for(rc, f"{os.fspath(clip_path)}: {strerror(rc)}", strerror(rc))
    return IndexInfo(status=rc, version=info.version, grid_width=info.grid_width,
                     grid_height=info.grid_height, analysis_width=info.analysis_width,
                     analysis_height=info.analysis_height, frames=info.frames,
                     clip_size=info.clip_size, index_size=info.index_size,
                     duration=info.duration, wall_start=to_datetime(info.wall_start))


def probe(path: str | os.PathLike[str]) -> Clip:
    """What a clip is from its container header alone (nothing is decoded): codec, size,
    declared duration and frame rate, rotation and wall-clock start (creation_time, else a
    timestamp in the file name). ``status``/``error_code`` say why a clip cannot be opened;
    this function does not raise for that."""
    from .result import Clip

    info = T.sized(T.ClipInfo)
    rc = api.vmo_probe_file(os.fsencode(path), ctypes.byref(info))
    if rc == -1:
        raise error_for(rc, f"{os.fspath(path)}: {strerror(rc)}", strerror(rc))
    clip = Clip._from_c(info, 0)
    return dataclasses.replace(clip, path=os.fspath(path),
                               error=strerror(rc) if rc not in (0, -11) else None)
