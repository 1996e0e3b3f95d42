"""The library's (and FFmpeg's) log, routed to a Python function or to ``logging``."""

from __future__ import annotations

import atexit
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import _types as T
from ._lib import api

__all__ = ["set_log_handler", "log_to_logging", "ERROR", "WARNING", "INFO", "DEBUG"]

ERROR, WARNING, INFO, DEBUG = 0, 1, 2, 3
_LEVELS = {ERROR: logging.ERROR, WARNING: logging.WARNING, INFO: logging.INFO,
           DEBUG: logging.DEBUG}

_lock = threading.Lock()
_fn: Any = None  # the installed CFUNCTYPE object: must outlive its use by C


def set_log_handler(handler: Callable[[int, str], Any] | None, level: int = WARNING) -> None:
    """Routes log messages at ``level`` or more severe (ERROR=0 .. DEBUG=3) to
    ``handler(level, message)``; None silences the log again (the default).

    The log is process-wide and may be called from any thread, even concurrently, so the
    handler must be thread-safe. An exception in it is reported through
    ``sys.unraisablehook`` and otherwise ignored. Set it before scans start."""
    global _fn
    with _lock:
        if handler is None:
            api.vmo_set_log_callback(T.LOG_FN(), None, ERROR)
            _fn = None
            return

        def tramp(user: Any, lvl: int, msg: bytes | None) -> None:
            try:
                handler(lvl, (msg or b"").decode("utf-8", "replace").rstrip("\n"))
            except BaseException as e:  # noqa: B036 - never into C
                sys.unraisablehook(_Unraisable(e, handler))  # type: ignore[arg-type]

        new = T.LOG_FN(tramp)
        api.vmo_set_log_callback(new, None, level)
        _fn = new  # the old one may still be running on another thread: keep ours only


class _Unraisable:
    def __init__(self, e: BaseException, obj: Any) -> None:
        self.exc_type = type(e)
        self.exc_value = e
        self.exc_traceback = e.__traceback__
        self.err_msg = "Exception in the vidmotion log handler"
        self.object = obj


def log_to_logging(level: int = WARNING, logger: str = "vidmotion") -> None:
    """Sends the log to the ``logging`` logger ``logger`` (levels mapped)."""
    log = logging.getLogger(logger)
    set_log_handler(lambda lvl, msg: log.log(_LEVELS.get(lvl, logging.DEBUG), "%s", msg),
                    level)


@atexit.register
def _silence_at_exit() -> None:
    # A C thread must not call into an interpreter that is shutting down.
    if _fn is not None:
        try:
            api.vmo_set_log_callback(T.LOG_FN(), None, ERROR)
        except Exception:
            pass
