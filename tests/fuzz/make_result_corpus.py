#!/usr/bin/env python3
"""Remakes the seed corpus of the result fuzz target: results of scans and of a request
over the decode seeds, saved with vmo_result_save() (each seed is 'S' + the bytes, so the
target recomputes the CRC after mutating them). Uses the shared library of a build
(default: build). The files are committed; run this only to change them.

usage: make_result_corpus.py [BUILD_DIR]"""
import ctypes as C
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "build")
lib = C.CDLL(os.path.join(build, "lib", "libvidmotion.so.0"))
P = C.c_void_p
lib.vmo_result_save.argtypes = [P, C.POINTER(C.POINTER(C.c_uint8)), C.POINTER(C.c_size_t)]
lib.vmo_request_add_clip.argtypes = [P, C.c_char_p, C.c_double]
lib.vmo_config_set_int.argtypes = [P, C.c_char_p, C.c_int64]
lib.vmo_config_add_zone.argtypes = [P, C.c_char_p, C.c_int, C.c_char_p]
lib.vmo_request_set_window.argtypes = [P, C.c_char_p, C.c_char_p]
for f in ("vmo_analyzer_scan_file", "vmo_analyzer_run_request", "vmo_analyzer_create"):
    getattr(lib, f).argtypes = [P, P, P] if f != "vmo_analyzer_create" else [P, P]


def ok(rc):
    if rc != 0:
        raise SystemExit(f"vidmotion error {rc}")


def analyzer(frames, heatmap, masks):
    cfg, an = P(), P()
    ok(lib.vmo_config_create(C.byref(cfg)))
    ok(lib.vmo_config_set_int(cfg, b"width", 32))
    ok(lib.vmo_config_set_int(cfg, b"frames", frames))
    ok(lib.vmo_config_set_int(cfg, b"heatmap", heatmap))
    ok(lib.vmo_config_add_zone(cfg, b"left", 0, b"0,0,0.5,1"))
    ok(lib.vmo_config_add_zone(cfg, b"tri", 0, b"poly:0,1;1,1;0.5,0"))
    if masks:
        ok(lib.vmo_config_add_zone(cfg, b"m", 1, b"0.4,0.4,0.6,0.6"))
    ok(lib.vmo_analyzer_create(cfg, C.byref(an)))
    lib.vmo_config_destroy(C.byref(cfg))
    return an


def save(res, name):
    data, size = C.POINTER(C.c_uint8)(), C.c_size_t()
    ok(lib.vmo_result_save(res, C.byref(data), C.byref(size)))
    with open(os.path.join(here, "corpus", "result", name), "wb") as f:
        f.write(b"S" + C.string_at(data, size.value))
    lib.vmo_free(data)
    lib.vmo_result_destroy(C.byref(res))


seeds = os.path.join(here, "corpus", "decode")
for clip, frames, heatmap, masks in (("h264.mp4", 1, 1, 1), ("mpeg4.avi", 0, 0, 0),
                                     ("size_change.ts", 1, 0, 1)):
    an, res = analyzer(frames, heatmap, masks), P()
    ok(lib.vmo_analyzer_scan_file(an, os.path.join(seeds, clip).encode(), C.byref(res)))
    save(res, clip.replace(".", "_") + ".res")
    lib.vmo_analyzer_destroy(C.byref(an))

# A request over two clips with wall-clock starts and a window: events across files.
an, rq, res = analyzer(1, 0, 0), P(), P()
ok(lib.vmo_request_create(C.byref(rq)))
ok(lib.vmo_request_add_clip(rq, os.path.join(seeds, "h264.mp4").encode(), 1783173900.0))
ok(lib.vmo_request_add_clip(rq, os.path.join(seeds, "h264.mkv").encode(), 1783173900.6))
ok(lib.vmo_request_set_window(rq, b"2026-07-04T14:05:00.2Z", b"2026-07-04T14:05:01Z"))
ok(lib.vmo_analyzer_run_request(an, rq, C.byref(res)))
save(res, "request_window.res")
lib.vmo_request_destroy(C.byref(rq))
lib.vmo_analyzer_destroy(C.byref(an))
print("\n".join(sorted(os.listdir(os.path.join(here, "corpus", "result")))))
