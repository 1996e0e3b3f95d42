"""Export: cut events out of their clips without re-encoding, with a verifiable manifest."""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import _types as T
from ._lib import api, check, path_text, strerror, text
from ._time import to_datetime
from .errors import error_for
from .result import Result

__all__ = ["ExportOutput", "ExportReport", "export", "thumbnails", "verify_manifest"]


@dataclass(frozen=True)
class ExportOutput:
    """One exported file (one per motion event; an event across clips is one file)."""

    event: int  # index of the event in the result's events
    path: str
    sha256: str
    thumbnail: str | None
    size: int
    duration: float
    wall_start: datetime | None
    wall_end: datetime | None
    reencoded: bool


@dataclass(frozen=True)
class ExportReport:
    outputs: list[ExportOutput]
    manifest: str | None


class _Export:
    def __init__(self, options: dict[str, Any]) -> None:
        h = ctypes.c_void_p()
        check(api.vmo_export_create(ctypes.byref(h)))
        self.h = h
        for k, v in options.items():
            if v is None:
                continue
            key = k.encode()
            if isinstance(v, bool) or isinstance(v, int):
                rc = api.vmo_export_set_int(h, key, int(v))
            else:
                rc = api.vmo_export_set_string(h, key, os.fsencode(v) if isinstance(
                    v, os.PathLike) else str(v).encode())
            self.check(rc)

    def check(self, rc: int) -> None:
        if rc != 0:
            check(rc, text(api.vmo_export_last_error(self.h)))

    def report(self) -> ExportReport:
        outs = []
        for i in range(api.vmo_export_output_count(self.h)):
            o = T.sized(T.ExportOutputInfo)
            check(api.vmo_export_output(self.h, i, ctypes.byref(o)))
            outs.append(ExportOutput(
                event=o.event, path=path_text(o.path), sha256=text(o.sha256) or "",
                thumbnail=path_text(o.thumbnail) if o.thumbnail else None, size=o.size_bytes,
                duration=o.duration, wall_start=to_datetime(o.wall_start),
                wall_end=to_datetime(o.wall_end), reencoded=bool(o.reencoded)))
        m = api.vmo_export_manifest_path(self.h)
        return ExportReport(outs, path_text(m) if m else None)

    def close(self) -> None:
        api.vmo_export_destroy(ctypes.byref(self.h))


def export(result: Result, dir: str | os.PathLike[str], *, format: str | None = None,
           mode: str | None = None, redact: str | None = None, case: str | None = None,
           manifest: str | os.PathLike[str] | None = None, overwrite: bool | None = None,
           thumbnails: bool | None = None, **options: Any) -> ExportReport:
    """Cuts every motion event of ``result`` out of its clips into ``dir`` (which must
    exist) and writes the manifest. ``format`` "mp4"/"mkv", ``mode`` "copy"/"precise"/
    "reencode", ``redact`` "none"/"black"/"pixelate" (privacy masks blanked)."""
    ex = _Export({"dir": os.fspath(dir), "format": format, "mode": mode, "redact": redact,
                  "case": case, "manifest": os.fspath(manifest) if manifest else None,
                  "overwrite": overwrite, "thumbnails": thumbnails, **options})
    try:
        ex.check(api.vmo_export_run(ex.h, result._ptr))
        return ex.report()
    finally:
        ex.close()


def thumbnails(result: Result, dir: str | os.PathLike[str], **options: Any) -> ExportReport:
    """Writes only the PNG thumbnails (one per motion event, at its peak)."""
    ex = _Export({"dir": os.fspath(dir), **options})
    try:
        ex.check(api.vmo_export_thumbnails(ex.h, result._ptr))
        return ex.report()
    finally:
        ex.close()


def verify_manifest(path: str | os.PathLike[str]) -> list[str]:
    """Hashes every file a manifest lists again; returns the report lines ("ok PATH").
    Raises MismatchError (its ``report`` attribute holds the lines), BadManifestError or
    NotFoundError."""
    rep = ctypes.c_void_p()
    rc = api.vmo_verify_manifest(os.fsencode(path), ctypes.byref(rep))
    lines: list[str] = []
    if rep.value:
        try:
            lines = ctypes.string_at(rep.value).decode("utf-8", "replace").splitlines()
        finally:
            api.vmo_free(rep)
    if rc != 0:
        detail = next((ln for ln in lines if not ln.startswith("ok ")), "")
        err = error_for(rc, detail or f"{os.fspath(path)}: {strerror(rc)}", strerror(rc))
        err.report = lines  # type: ignore[attr-defined]
        raise err
    return lines
