"""Exceptions: one :class:`Error` subclass per ``vmo_status`` code of the C library.

Every error carries the numeric ``code``, the library's short text for it (``reason``, from
``vmo_strerror``) and the detail the handle gave (``message``, from ``*_last_error``)::

    try:
        vidmotion.scan("missing.mp4")
    except vidmotion.NotFoundError as e:
        print(e.code, e.message)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Error",
    "InvalidArgumentError",
    "NoMemoryError",
    "IoError",
    "NotFoundError",
    "EmptyInputError",
    "CorruptError",
    "NotMediaError",
    "NoVideoError",
    "DecodeError",
    "UnsupportedError",
    "TruncatedError",
    "UnknownOptionError",
    "BadZoneError",
    "UnknownZoneError",
    "BadTimeError",
    "BadWindowError",
    "NoTimeSourceError",
    "OverlapError",
    "CancelledError",
    "IndexStaleError",
    "IndexCorruptError",
    "ExistsError",
    "NoSpaceError",
    "MismatchError",
    "StateError",
    "LimitError",
    "BadManifestError",
    "UnavailableError",
    "LibraryNotFoundError",
    "ERRORS",
    "error_for",
]


class Error(Exception):
    """Base class of every error the library reports.

    ``code`` is the ``vmo_status`` value (< 0), ``c_name`` its name in the header,
    ``reason`` the library's text for the code and ``message`` the detail.
    """

    code: int = 0
    c_name: str = ""

    def __init__(self, message: str = "", *, code: int | None = None, reason: str = "",
                 result: Any = None) -> None:
        if code is not None:
            self.code = code
        self.message = message or reason
        self.reason = reason
        #: For :class:`CancelledError`: the partial :class:`~vidmotion.Result`, if any.
        self.result = result
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.reason and self.message and self.reason not in self.message:
            return f"{self.message} ({self.reason})"
        return self.message or self.reason or f"vidmotion error {self.code}"

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.message, self.code, self.reason))


def _rebuild(cls: type[Error], message: str, code: int, reason: str) -> Error:
    return cls(message, code=code, reason=reason)


def _e(name: str, code: int, c_name: str, doc: str, *bases: type) -> type[Error]:
    return type(name, (Error, *bases), {"code": code, "c_name": c_name, "__doc__": doc,
                                        "__module__": __name__})


InvalidArgumentError = _e("InvalidArgumentError", -1, "VMO_ERR_INVALID_ARG",
                          "NULL handle, value out of range, malformed string.", ValueError)
NoMemoryError = _e("NoMemoryError", -2, "VMO_ERR_NO_MEMORY", "An allocation failed.")
IoError = _e("IoError", -3, "VMO_ERR_IO",
             "Reading or writing failed (permission, device error).")
NotFoundError = _e("NotFoundError", -4, "VMO_ERR_NOT_FOUND", "The input file does not exist.")
EmptyInputError = _e("EmptyInputError", -5, "VMO_ERR_EMPTY", "The input has zero bytes.")
CorruptError = _e("CorruptError", -6, "VMO_ERR_CORRUPT",
                  "Damaged data: no container or stream could be read.")
NotMediaError = _e("NotMediaError", -7, "VMO_ERR_NOT_MEDIA",
                   "The input is not a media file at all (e.g. text).")
NoVideoError = _e("NoVideoError", -8, "VMO_ERR_NO_VIDEO",
                  "A media file without a video stream (audio only).")
DecodeError = _e("DecodeError", -9, "VMO_ERR_DECODE",
                 "A video stream exists but no frame of it decodes.")
UnsupportedError = _e("UnsupportedError", -10, "VMO_ERR_UNSUPPORTED",
                      "Codec, pixel format or feature not available.")
TruncatedError = _e("TruncatedError", -11, "VMO_ERR_TRUNCATED",
                    "The data ends early; frames before the cut are kept.")
UnknownOptionError = _e("UnknownOptionError", -12, "VMO_ERR_UNKNOWN_OPTION",
                        "No option of that name (or of that type).", ValueError)
BadZoneError = _e("BadZoneError", -13, "VMO_ERR_BAD_ZONE",
                  "Zone malformed, outside 0..1, degenerate or too many.", ValueError)
UnknownZoneError = _e("UnknownZoneError", -14, "VMO_ERR_UNKNOWN_ZONE",
                      "A zone name that is not defined.", ValueError)
BadTimeError = _e("BadTimeError", -15, "VMO_ERR_BAD_TIME",
                  "A time string that cannot be read.", ValueError)
BadWindowError = _e("BadWindowError", -16, "VMO_ERR_BAD_WINDOW",
                    "A time window that ends before it starts (or mixes kinds).", ValueError)
NoTimeSourceError = _e("NoTimeSourceError", -17, "VMO_ERR_NO_TIME_SOURCE",
                       "Wall-clock window asked, clip has no wall-clock start.")
OverlapError = _e("OverlapError", -18, "VMO_ERR_OVERLAP",
                  "Duplicate clips, or clips overlapping in time.")
CancelledError = _e("CancelledError", -19, "VMO_ERR_CANCELLED",
                    "Stopped by cancel() or a callback; ``result`` holds the partial result.")
IndexStaleError = _e("IndexStaleError", -20, "VMO_ERR_INDEX_STALE",
                     "A motion index that belongs to another version of a clip.")
IndexCorruptError = _e("IndexCorruptError", -21, "VMO_ERR_INDEX_CORRUPT",
                       "A motion index that fails its checksum or format checks.")
ExistsError = _e("ExistsError", -22, "VMO_ERR_EXISTS",
                 "The output exists and overwriting was not asked for.")
NoSpaceError = _e("NoSpaceError", -23, "VMO_ERR_NO_SPACE",
                  "Disk full or file size limit reached while writing.")
MismatchError = _e("MismatchError", -24, "VMO_ERR_MISMATCH",
                   "Verification found a size or hash that differs.")
StateError = _e("StateError", -25, "VMO_ERR_STATE",
                "The call is not valid in the handle's current state.")
LimitError = _e("LimitError", -26, "VMO_ERR_LIMIT",
                "A hard limit: frame dimensions, zone count, sizes.")
BadManifestError = _e("BadManifestError", -27, "VMO_ERR_BAD_MANIFEST",
                      "A manifest that is not valid JSON of the expected form.", ValueError)


class UnavailableError(UnsupportedError, NotImplementedError):  # type: ignore[misc,valid-type]
    """The loaded libvidmotion does not have this function yet (an older library)."""


class LibraryNotFoundError(OSError):
    """``libvidmotion.so.0`` could not be loaded (see :func:`vidmotion.library_path`)."""


#: Status code -> exception class, for every ``VMO_ERR_*`` of the header.
ERRORS: dict[int, type[Error]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError, NoMemoryError, IoError, NotFoundError, EmptyInputError,
        CorruptError, NotMediaError, NoVideoError, DecodeError, UnsupportedError,
        TruncatedError, UnknownOptionError, BadZoneError, UnknownZoneError, BadTimeError,
        BadWindowError, NoTimeSourceError, OverlapError, CancelledError, IndexStaleError,
        IndexCorruptError, ExistsError, NoSpaceError, MismatchError, StateError, LimitError,
        BadManifestError,
    )
}


def error_for(code: int, message: str = "", reason: str = "", result: Any = None) -> Error:
    """The exception instance for status ``code`` (a plain :class:`Error` if unknown)."""
    cls = ERRORS.get(code, Error)
    return cls(message, code=code, reason=reason, result=result)
