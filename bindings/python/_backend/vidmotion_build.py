"""A tiny PEP 517 / PEP 660 build backend for the pure-Python vidmotion package.

It needs nothing but the standard library, so pip builds the wheel without downloading
setuptools (``requires = []`` in pyproject.toml). It packs ``vidmotion/`` into a
``py3-none-any`` wheel. To bundle a built ``libvidmotion.so.0`` into the wheel (the package
then finds it next to itself), pass its path as ``VIDMOTION_BUNDLE_LIBRARY=...`` or
``pip install --config-settings bundle-library=...``; the wheel is then tagged for this
platform.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sysconfig
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "vidmotion"

__all__ = [
    "build_wheel", "build_sdist", "build_editable", "get_requires_for_build_wheel",
    "get_requires_for_build_sdist", "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel", "prepare_metadata_for_build_editable",
]


def _project() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _name_version() -> tuple[str, str]:
    p = _project()
    return p["name"], p["version"]


def _metadata() -> str:
    p = _project()
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {p['name']}",
        f"Version: {p['version']}",
        f"Summary: {p.get('description', '')}",
        f"Requires-Python: {p.get('requires-python', '>=3')}",
    ]
    if p.get("keywords"):
        lines.append(f"Keywords: {','.join(p['keywords'])}")
    lines += [f"Classifier: {c}" for c in p.get("classifiers", [])]
    lines += [f"Requires-Dist: {d}" for d in p.get("dependencies", [])]
    for extra, deps in p.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    readme = ROOT / p.get("readme", "README.md")
    body = ""
    if readme.is_file():
        lines.append("Description-Content-Type: text/markdown")
        body = "\n" + readme.read_text(encoding="utf-8")
    return "\n".join(lines) + "\n" + body


def _bundle(config_settings: dict[str, Any] | None) -> Path | None:
    src = (config_settings or {}).get("bundle-library") or os.environ.get(
        "VIDMOTION_BUNDLE_LIBRARY")
    if not src:
        return None
    p = Path(src)
    if not p.is_file():
        raise FileNotFoundError(f"bundle-library: no such file {p}")
    return p


def _tag(platform_specific: bool) -> str:
    if not platform_specific:
        return "py3-none-any"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"py3-none-{plat}"


class _Wheel:
    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.records: list[str] = []

    def add(self, arcname: str, data: bytes, mode: int = 0o644) -> None:
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        self.records.append(f"{arcname},sha256={digest.decode()},{len(data)}")

    def close(self, dist_info: str) -> None:
        record = f"{dist_info}/RECORD"
        self.records.append(f"{record},,")
        self.zip.writestr(zipfile.ZipInfo(record, date_time=(2020, 1, 1, 0, 0, 0)),
                          "\n".join(self.records) + "\n")
        self.zip.close()


def _dist_info_files(tag: str, purelib: bool) -> dict[str, bytes]:
    wheel = (f"Wheel-Version: 1.0\nGenerator: vidmotion_build\n"
             f"Root-Is-Purelib: {'true' if purelib else 'false'}\nTag: {tag}\n")
    return {"METADATA": _metadata().encode(), "WHEEL": wheel.encode(),
            "top_level.txt": f"{PACKAGE}\n".encode()}


def _package_files() -> list[Path]:
    pkg = ROOT / PACKAGE
    return sorted(p for p in pkg.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
                  and not p.name.startswith("libvidmotion"))


def _build(wheel_directory: str, config_settings: dict[str, Any] | None,
           editable: bool) -> str:
    name, version = _name_version()
    lib = None if editable else _bundle(config_settings)
    tag = _tag(lib is not None)
    filename = f"{name}-{version}-{tag}.whl"
    dist_info = f"{name}-{version}.dist-info"
    whl = _Wheel(Path(wheel_directory) / filename)
    if editable:
        whl.add(f"__editable__.{name}-{version}.pth", (str(ROOT) + "\n").encode())
    else:
        for p in _package_files():
            whl.add(p.relative_to(ROOT).as_posix(), p.read_bytes())
        if lib is not None:
            whl.add(f"{PACKAGE}/libvidmotion.so.0", lib.read_bytes(), 0o755)
    for fname, data in _dist_info_files(tag, lib is None).items():
        whl.add(f"{dist_info}/{fname}", data)
    whl.close(dist_info)
    return filename


# ---- PEP 517 hooks ----
def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None
                                    ) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: dict[str, Any] | None = None) -> str:
    name, version = _name_version()
    dist_info = Path(metadata_directory) / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    tag = _tag(_bundle(config_settings) is not None)
    for fname, data in _dist_info_files(tag, True).items():
        if fname != "WHEEL":
            (dist_info / fname).write_bytes(data)
    return dist_info.name


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    return _build(wheel_directory, config_settings, editable=False)


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                   metadata_directory: str | None = None) -> str:
    return _build(wheel_directory, config_settings, editable=True)


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    name, version = _name_version()
    base = f"{name}-{version}"
    filename = f"{base}.tar.gz"
    files = [ROOT / "pyproject.toml", ROOT / "README.md", *_package_files()]
    for extra in ("_backend", "examples", "tests"):
        files += sorted(p for p in (ROOT / extra).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts)
    with tarfile.open(Path(sdist_directory) / filename, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for p in files:
            if p.is_file():
                tar.add(p, arcname=f"{base}/{p.relative_to(ROOT).as_posix()}", recursive=False)
        pkg_info = _metadata().encode()
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size = len(pkg_info)
        ti.mtime = int(time.time())
        tar.addfile(ti, io.BytesIO(pkg_info))
    return filename
