"""The binding mirrors the header: struct layouts (checked by a compiled C program), every
status code mapped to an exception, every function prototyped, flag values."""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path

import pytest

import vidmotion
from vidmotion import _types as T
from vidmotion._lib import PROTOTYPES
from vidmotion.result import ClipFlags, EventFlags, FrameFlags

from conftest import HEADER

HEADER_TEXT = HEADER.read_text()


def c_layout(cc: str, tmp_path: Path) -> dict[str, int]:
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <vidmotion/vidmotion.h>",
             "int main(void) {"]
    for cname, cls in T.STRUCTS.items():
        lines.append(f'printf("{cname} %zu\\n", sizeof({cname}));')
        for fname, _ in cls._fields_:
            lines.append(f'printf("{cname}.{fname} %zu %zu\\n", offsetof({cname}, {fname}), '
                         f"sizeof((({cname} *)0)->{fname}));")
    lines += ["return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", str(HEADER.parent.parent), str(src), "-o", str(exe)],
                   check=True)
    out: dict[str, int] = {}
    for line in subprocess.run([str(exe)], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        key, *vals = line.split()
        if len(vals) == 1:
            out[key] = int(vals[0])
        else:
            out[key + "@offset"], out[key + "@size"] = int(vals[0]), int(vals[1])
    return out


def test_struct_layouts_match_the_header(cc: str, tmp_path: Path) -> None:
    c = c_layout(cc, tmp_path)
    for cname, cls in T.STRUCTS.items():
        assert ctypes.sizeof(cls) == c[cname], cname
        for fname, _ in cls._fields_:
            field = getattr(cls, fname)
            assert field.offset == c[f"{cname}.{fname}@offset"], f"{cname}.{fname}"
            assert field.size == c[f"{cname}.{fname}@size"], f"{cname}.{fname}"


def test_every_struct_of_the_header_is_mirrored() -> None:
    declared = set(re.findall(r"typedef struct (vmo_\w+) \{", HEADER_TEXT))
    assert declared == set(T.STRUCTS)


def header_statuses() -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r"\b(VMO_ERR_\w+)\s*=\s*(-\d+)", HEADER_TEXT)}


def test_every_status_code_has_its_exception_class() -> None:
    codes = header_statuses()
    assert len(codes) >= 27
    for c_name, code in codes.items():
        cls = vidmotion.ERRORS.get(code)
        assert cls is not None, f"{c_name} ({code}) has no exception class"
        assert cls.c_name == c_name
        assert cls.code == code
        assert issubclass(cls, vidmotion.Error)
        assert getattr(vidmotion, cls.__name__) is cls
        e = vidmotion.error_for(code, "detail")
        assert type(e) is cls and e.code == code and e.message == "detail"
    assert set(vidmotion.ERRORS) == set(codes.values())


def test_error_texts_come_from_the_library() -> None:
    for c_name, code in header_statuses().items():
        e = vidmotion.error_for(code, "", vidmotion._lib.strerror(code))
        assert str(e) and str(e) != "unknown error", c_name
    e = vidmotion.error_for(-12345, "what")
    assert type(e) is vidmotion.Error and e.code == -12345


def header_functions() -> dict[str, int]:
    """name -> parameter count of every VMO_API function."""
    out = {}
    text = re.sub(r"/\*.*?\*/", "", HEADER_TEXT, flags=re.S)
    for m in re.finditer(r"VMO_API\s+[^;(]*?\b(vmo_\w+)\s*\(([^)]*)\)\s*;", text):
        params = m[2].strip()
        out[m[1]] = 0 if params in ("", "void") else params.count(",") + 1
    return out


def test_every_function_of_the_header_has_a_prototype() -> None:
    funcs = header_functions()
    assert len(funcs) > 60
    for name, nparams in funcs.items():
        assert name in PROTOTYPES, f"{name} is not bound"
        assert len(PROTOTYPES[name][1]) == nparams, name
    assert set(PROTOTYPES) <= set(funcs)


def defines(prefix: str) -> dict[str, int]:
    return {m[0]: 1 << int(m[1])
            for m in re.findall(rf"#define {prefix}(\w+)\s+\(1u << (\d+)\)", HEADER_TEXT)}


@pytest.mark.parametrize("prefix, enum", [("VMO_CLIP_", ClipFlags), ("VMO_EVENT_", EventFlags),
                                          ("VMO_FRAME_", FrameFlags),
                                          ("VMO_CPU_", vidmotion.CpuFlags)])
def test_flag_values(prefix: str, enum: type) -> None:
    want = defines(prefix)
    assert want
    assert {f.name: f.value for f in enum} == want


def test_versions_agree() -> None:
    major, minor, patch = (int(re.search(rf"#define VMO_VERSION_{k} (\d+)", HEADER_TEXT)[1])
                           for k in ("MAJOR", "MINOR", "PATCH"))
    assert vidmotion.version()[0] == major
    assert vidmotion.__version__ == f"{major}.{minor}.{patch}"
    pyproject = (HEADER.parent.parent.parent / "bindings/python/pyproject.toml").read_text()
    assert f'version = "{vidmotion.__version__}"' in pyproject
    assert vidmotion.library_version().startswith(f"{major}.")
