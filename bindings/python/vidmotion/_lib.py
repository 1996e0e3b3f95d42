"""Finding and loading libvidmotion, and the prototypes of its functions.

The library is looked up, in order:

1. ``$VIDMOTION_LIBRARY``: the library file itself, or a folder holding it;
2. next to this package (``vidmotion/libvidmotion.so.0``, e.g. bundled into the wheel);
3. the system's library path (``LD_LIBRARY_PATH``, the ``ldconfig`` cache, ``/usr/lib``),
   then ``/usr/local/lib`` (where ``cmake --install`` puts it by default).

Loading is lazy: ``import vidmotion`` always works; the first call that needs the library
loads it (or raises :class:`~vidmotion.LibraryNotFoundError`). Functions are resolved one by
one on first use, so a library that lacks a newer function still serves all the others;
calling the missing one raises :class:`~vidmotion.UnavailableError`.

``ctypes.CDLL`` releases the GIL around every foreign call; callbacks re-acquire it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (
    POINTER,
    c_char_p,
    c_double,
    c_int,
    c_int64,
    c_size_t,
    c_uint32,
    c_void_p,
)
from pathlib import Path
from typing import Any

from . import _types as T
from .errors import LibraryNotFoundError, UnavailableError, error_for

__all__ = ["api", "library", "library_path", "SONAME"]

ABI_MAJOR = 0
if sys.platform == "darwin":
    SONAME = f"libvidmotion.{ABI_MAJOR}.dylib"
elif sys.platform == "win32":
    SONAME = "vidmotion.dll"
else:
    SONAME = f"libvidmotion.so.{ABI_MAJOR}"

_handle = POINTER(c_void_p)  # out parameter of *_create / scans
_cp = c_char_p
_i = c_int

# name -> (restype, argtypes). Every handle is a c_void_p.
PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "vmo_version": (c_uint32, []),
    "vmo_version_string": (_cp, []),
    "vmo_strerror": (_cp, [_i]),
    "vmo_free": (None, [c_void_p]),
    "vmo_set_log_callback": (None, [T.LOG_FN, c_void_p, _i]),
    "vmo_cpu_flags": (ctypes.c_uint, []),
    "vmo_set_cpu_mask": (None, [ctypes.c_uint]),
    "vmo_parse_time": (_i, [_cp, POINTER(c_double), POINTER(_i)]),
    "vmo_format_time": (_i, [c_double, _cp, c_size_t]),
    # config
    "vmo_config_create": (_i, [_handle]),
    "vmo_config_clone": (_i, [c_void_p, _handle]),
    "vmo_config_destroy": (None, [_handle]),
    "vmo_config_last_error": (_cp, [c_void_p]),
    "vmo_config_set_int": (_i, [c_void_p, _cp, c_int64]),
    "vmo_config_set_double": (_i, [c_void_p, _cp, c_double]),
    "vmo_config_set_string": (_i, [c_void_p, _cp, _cp]),
    "vmo_config_get_int": (_i, [c_void_p, _cp, POINTER(c_int64)]),
    "vmo_config_get_double": (_i, [c_void_p, _cp, POINTER(c_double)]),
    "vmo_config_option_count": (_i, []),
    "vmo_config_option_info": (_i, [_i, POINTER(T.OptionInfo)]),
    "vmo_config_add_zone": (_i, [c_void_p, _cp, _i, _cp]),
    "vmo_config_add_zone_rect": (_i, [c_void_p, _cp, _i, c_double, c_double, c_double,
                                      c_double]),
    "vmo_config_add_zone_polygon": (_i, [c_void_p, _cp, _i, POINTER(c_double), c_uint32]),
    "vmo_config_add_zones_json": (_i, [c_void_p, _cp]),
    "vmo_config_clear_zones": (None, [c_void_p]),
    "vmo_config_zone_count": (_i, [c_void_p]),
    "vmo_config_zone_name": (_cp, [c_void_p, _i]),
    # results
    "vmo_result_destroy": (None, [_handle]),
    "vmo_result_clip_count": (_i, [c_void_p]),
    "vmo_result_clip": (_i, [c_void_p, _i, POINTER(T.ClipInfo)]),
    "vmo_result_zone_count": (_i, [c_void_p]),
    "vmo_result_zone_name": (_cp, [c_void_p, _i]),
    "vmo_result_event_count": (_i, [c_void_p]),
    "vmo_result_event": (_i, [c_void_p, _i, POINTER(T.Event)]),
    "vmo_result_event_source": (_i, [c_void_p, _i, _i, POINTER(T.EventSource)]),
    "vmo_result_series": (_i, [c_void_p, _i, _i, POINTER(T.Series)]),
    "vmo_result_heatmap": (_i, [c_void_p, _i, POINTER(POINTER(ctypes.c_uint32)), POINTER(_i),
                                POINTER(_i)]),
    "vmo_result_save": (_i, [c_void_p, POINTER(c_void_p), POINTER(c_size_t)]),
    "vmo_result_load": (_i, [_cp, c_size_t, _handle]),
    "vmo_result_merge": (_i, [POINTER(c_void_p), _i, _handle]),
    "vmo_result_to_json": (_i, [c_void_p, c_uint32, POINTER(c_void_p)]),
    # analyzer
    "vmo_analyzer_create": (_i, [c_void_p, _handle]),
    "vmo_analyzer_destroy": (None, [_handle]),
    "vmo_analyzer_last_error": (_cp, [c_void_p]),
    "vmo_analyzer_set_frame_callback": (_i, [c_void_p, T.FRAME_FN, c_void_p]),
    "vmo_analyzer_set_event_callback": (_i, [c_void_p, T.EVENT_FN, c_void_p]),
    "vmo_analyzer_set_progress_callback": (_i, [c_void_p, T.PROGRESS_FN, c_void_p]),
    "vmo_analyzer_cancel": (None, [c_void_p]),
    "vmo_analyzer_scan_file": (_i, [c_void_p, _cp, _handle]),
    "vmo_analyzer_scan_io": (_i, [c_void_p, POINTER(T.IO), _cp, _handle]),
    "vmo_analyzer_push_frame": (_i, [c_void_p, POINTER(T.Frame)]),
    "vmo_analyzer_push_finish": (_i, [c_void_p, _cp, c_double, _handle]),
    "vmo_analyzer_run_request": (_i, [c_void_p, c_void_p, _handle]),
    "vmo_analyzer_index_file": (_i, [c_void_p, _cp, _handle]),
    # requests
    "vmo_request_create": (_i, [_handle]),
    "vmo_request_destroy": (None, [_handle]),
    "vmo_request_last_error": (_cp, [c_void_p]),
    "vmo_request_add_clip": (_i, [c_void_p, _cp, c_double]),
    "vmo_request_set_window": (_i, [c_void_p, _cp, _cp]),
    "vmo_request_set_window_wall": (_i, [c_void_p, c_double, c_double]),
    "vmo_request_set_window_clip": (_i, [c_void_p, c_double, c_double]),
    "vmo_request_add_zone": (_i, [c_void_p, _cp, _i, _cp]),
    "vmo_request_select_zone": (_i, [c_void_p, _cp]),
    "vmo_request_set_double": (_i, [c_void_p, _cp, c_double]),
    # motion index
    "vmo_index_check": (_i, [_cp, _cp, POINTER(T.IndexInfo)]),
    "vmo_probe_file": (_i, [_cp, POINTER(T.ClipInfo)]),
    # export
    "vmo_export_create": (_i, [_handle]),
    "vmo_export_destroy": (None, [_handle]),
    "vmo_export_last_error": (_cp, [c_void_p]),
    "vmo_export_set_string": (_i, [c_void_p, _cp, _cp]),
    "vmo_export_set_int": (_i, [c_void_p, _cp, c_int64]),
    "vmo_export_run": (_i, [c_void_p, c_void_p]),
    "vmo_export_thumbnails": (_i, [c_void_p, c_void_p]),
    "vmo_export_output_count": (_i, [c_void_p]),
    "vmo_export_output": (_i, [c_void_p, _i, POINTER(T.ExportOutputInfo)]),
    "vmo_export_manifest_path": (_cp, [c_void_p]),
    "vmo_verify_manifest": (_i, [_cp, POINTER(c_void_p)]),
}

_lock = threading.Lock()
_cdll: ctypes.CDLL | None = None
_path: str | None = None


def _candidates() -> list[str]:
    out: list[str] = []
    env = os.environ.get("VIDMOTION_LIBRARY")
    if env:
        p = Path(env)
        out.append(str(p / SONAME) if p.is_dir() else str(p))
        return out  # an explicit choice: nothing else is tried
    here = Path(__file__).resolve().parent
    out.append(str(here / SONAME))
    out.append(SONAME)  # the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache)
    found = ctypes.util.find_library("vidmotion")
    if found:
        out.append(found)
    for d in ("/usr/local/lib", "/usr/local/lib64", "/usr/lib", "/usr/lib64"):
        out.append(f"{d}/{SONAME}")
    return out


def library() -> ctypes.CDLL:
    """The loaded library (loads it on first use)."""
    global _cdll, _path
    if _cdll is not None:
        return _cdll
    with _lock:
        if _cdll is not None:
            return _cdll
        tried: list[str] = []
        for cand in _candidates():
            if os.sep in cand and not os.path.exists(cand):
                tried.append(f"{cand}: no such file")
                continue
            try:
                lib = ctypes.CDLL(cand)
            except OSError as e:
                tried.append(f"{cand}: {e}")
                continue
            try:
                version = lib.vmo_version
                version.restype = c_uint32
                major = version() >> 16
            except AttributeError:
                tried.append(f"{cand}: not libvidmotion (no vmo_version)")
                continue
            if major != ABI_MAJOR:
                tried.append(f"{cand}: ABI major {major}, this package needs {ABI_MAJOR}")
                continue
            _path = cand
            _cdll = lib
            return lib
        raise LibraryNotFoundError(
            f"cannot load {SONAME}: set VIDMOTION_LIBRARY to the built library "
            "(e.g. build/lib/libvidmotion.so.0), or install it (cmake --install build, then "
            "ldconfig). Tried:\n  " + "\n  ".join(tried))


def library_path() -> str:
    """Where the loaded library came from (loads it if needed)."""
    library()
    assert _path is not None
    return _path


def _version() -> str:
    v = library().vmo_version()
    return f"{v >> 16}.{(v >> 8) & 255}.{v & 255}"


class _Api:
    """Attribute access to the library's functions, with prototypes, resolved lazily."""

    def __getattr__(self, name: str) -> Any:
        lib = library()
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise UnavailableError(
                f"{name}() is not in the loaded library {_path} (version {_version()}): "
                "it needs a newer libvidmotion") from None
        restype, argtypes = PROTOTYPES[name]
        fn.restype = restype
        fn.argtypes = argtypes
        setattr(self, name, fn)  # cached: __getattr__ is not called again
        return fn

    def has(self, name: str) -> bool:
        """Whether the loaded library exports ``name``."""
        try:
            getattr(self, name)
            return True
        except UnavailableError:
            return False


api = _Api()


def text(p: bytes | None) -> str | None:
    return None if p is None else p.decode("utf-8", "replace")


def path_text(p: bytes | None) -> str:
    return "" if p is None else os.fsdecode(p)


def strerror(code: int) -> str:
    return text(api.vmo_strerror(code)) or ""


def check(rc: int, detail: str | None = None, result: Any = None) -> None:
    """Raises the :class:`~vidmotion.Error` subclass of ``rc`` when it is not VMO_OK."""
    if rc != 0:
        raise error_for(rc, detail or "", strerror(rc), result)
