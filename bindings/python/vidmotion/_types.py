"""ctypes mirrors of the public structs and callback types of vidmotion.h.

Field order and types follow the header exactly; every struct starts with ``struct_size``,
which :func:`sized` sets to ``ctypes.sizeof`` of the mirror (the library then reads or
writes only that many bytes, so an older or newer library works with these mirrors).
The test suite compiles a small C program to check every size and offset.
"""

from __future__ import annotations

import ctypes
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_int32,
    c_int64,
    c_uint8,
    c_uint32,
    c_void_p,
)
from typing import TypeVar

__all__ = [
    "OptionInfo",
    "IO",
    "ClipInfo",
    "Event",
    "EventSource",
    "Series",
    "FrameReport",
    "Frame",
    "IndexInfo",
    "ExportOutputInfo",
    "LOG_FN",
    "FRAME_FN",
    "EVENT_FN",
    "PROGRESS_FN",
    "IO_READ_FN",
    "IO_SEEK_FN",
    "STRUCTS",
    "sized",
]


class OptionInfo(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("type", c_int32),
        ("name", c_char_p),
        ("help", c_char_p),
        ("default_value", c_double),
        ("min_value", c_double),
        ("max_value", c_double),
    ]


IO_READ_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_uint8), c_int)
IO_SEEK_FN = CFUNCTYPE(c_int64, c_void_p, c_int64, c_int)


class IO(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("opaque", c_void_p),
        ("read", IO_READ_FN),
        ("seek", IO_SEEK_FN),
    ]


class ClipInfo(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("status", c_int32),
        ("flags", c_uint32),
        ("wall_source", c_int32),
        ("path", c_char_p),
        ("error", c_char_p),
        ("codec", c_char_p),
        ("frames", c_int64),
        ("analysed", c_int64),
        ("duration", c_double),
        ("fps", c_double),
        ("wall_start", c_double),
        ("width", c_int32),
        ("height", c_int32),
        ("rotation", c_int32),
        ("analysis_width", c_int32),
        ("analysis_height", c_int32),
        ("reserved0", c_int32),
        ("size_bytes", c_int64),
    ]


class Event(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_int32),
        ("flags", c_uint32),
        ("zone", c_int32),
        ("clip", c_int32),
        ("end_clip", c_int32),
        ("start", c_double),
        ("end", c_double),
        ("clip_start", c_double),
        ("clip_end", c_double),
        ("wall_start", c_double),
        ("wall_end", c_double),
        ("peak", c_double),
        ("mean", c_double),
        ("keyframe", c_double),
        ("clip_keyframe", c_double),
        ("peak_time", c_double),
        ("peak_clip", c_int32),
        ("source_count", c_int32),
        ("start_frame", c_int64),
        ("end_frame", c_int64),
        ("whole_start", c_double),
        ("whole_end", c_double),
        ("whole_wall_start", c_double),
        ("whole_wall_end", c_double),
        ("whole_clip", c_int32),
        ("whole_end_clip", c_int32),
    ]


class EventSource(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("clip", c_int32),
        ("start", c_double),
        ("end", c_double),
        ("clip_start", c_double),
        ("clip_end", c_double),
    ]


class Series(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("count", c_uint32),
        ("t", POINTER(c_double)),
        ("changed", POINTER(c_float)),
        ("mad", POINTER(c_float)),
        ("flags", POINTER(c_uint8)),
        ("index", POINTER(c_int64)),
    ]


class FrameReport(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("clip", c_int32),
        ("zone_count", c_int32),
        ("index", c_int64),
        ("t", c_double),
        ("wall", c_double),
        ("changed", POINTER(c_float)),
        ("mad", POINTER(c_float)),
        ("plane", POINTER(c_uint8)),
        ("plane_width", c_int32),
        ("plane_height", c_int32),
        ("plane_stride", c_int32),
        ("reserved0", c_int32),
        ("zone_names", POINTER(c_char_p)),
    ]


class Frame(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("width", c_int32),
        ("height", c_int32),
        ("stride", c_int32),
        ("luma", c_void_p),
        ("pts", c_int64),
        ("time_base_num", c_int32),
        ("time_base_den", c_int32),
        ("flags", c_uint32),
        ("reserved0", c_int32),
    ]


class IndexInfo(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("status", c_int32),
        ("version", c_int32),
        ("grid_width", c_int32),
        ("grid_height", c_int32),
        ("analysis_width", c_int32),
        ("analysis_height", c_int32),
        ("reserved0", c_int32),
        ("frames", c_int64),
        ("clip_size", c_int64),
        ("index_size", c_int64),
        ("duration", c_double),
        ("wall_start", c_double),
    ]


class ExportOutputInfo(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("event", c_int32),
        ("path", c_char_p),
        ("sha256", c_char_p),
        ("thumbnail", c_char_p),
        ("size_bytes", c_int64),
        ("duration", c_double),
        ("wall_start", c_double),
        ("wall_end", c_double),
        ("reencoded", c_int32),
        ("reserved0", c_int32),
    ]


# C struct name -> mirror (the test checks sizeof and every offsetof against the header).
STRUCTS: dict[str, type[Structure]] = {
    "vmo_option_info": OptionInfo,
    "vmo_io": IO,
    "vmo_clip_info": ClipInfo,
    "vmo_event": Event,
    "vmo_event_source": EventSource,
    "vmo_series": Series,
    "vmo_frame_report": FrameReport,
    "vmo_frame": Frame,
    "vmo_index_info": IndexInfo,
    "vmo_export_output_info": ExportOutputInfo,
}

LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p)
FRAME_FN = CFUNCTYPE(c_int, c_void_p, POINTER(FrameReport))
EVENT_FN = CFUNCTYPE(c_int, c_void_p, c_int, POINTER(Event))
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_int, c_int, c_int64, c_int64)

S = TypeVar("S", bound=Structure)


def sized(cls: type[S]) -> S:
    """A zeroed struct with ``struct_size`` set to the mirror's size."""
    s = cls()
    s.struct_size = ctypes.sizeof(cls)
    return s
