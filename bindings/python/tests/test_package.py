"""Packaging: `pip install ./bindings/python` works offline in a virtual environment, the
wheel is well formed (with or without a bundled library), and the example runs."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import vidmotion

from conftest import BINDING

EXAMPLE = BINDING / "examples" / "scan_events.py"


def backend():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "vidmotion_build", BINDING / "_backend" / "vidmotion_build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_record(whl: Path) -> list[str]:
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        rows = list(csv.reader(io.StringIO(z.read(record).decode())))
        assert {r[0] for r in rows} == set(names)
        for path, digest, size in rows:
            if path == record:
                continue
            data = z.read(path)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={want.decode()}" and int(size) == len(data), path
    return names


def test_wheel_and_sdist(tmp_path: Path) -> None:
    be = backend()
    assert be.get_requires_for_build_wheel() == []
    name = be.build_wheel(str(tmp_path))
    assert name == f"vidmotion-{vidmotion.__version__}-py3-none-any.whl"
    names = check_record(tmp_path / name)
    assert "vidmotion/__init__.py" in names and "vidmotion/py.typed" in names
    assert not any("__pycache__" in n or n.endswith(".so.0") for n in names)
    with zipfile.ZipFile(tmp_path / name) as z:
        meta = z.read(f"vidmotion-{vidmotion.__version__}.dist-info/METADATA").decode()
    assert "Name: vidmotion" in meta and "Requires-Python: >=3.11" in meta
    assert 'Requires-Dist: numpy; extra == "numpy"' in meta
    lib = os.environ.get("VIDMOTION_LIBRARY")
    if lib and Path(lib).is_file():
        bundled = be.build_wheel(str(tmp_path), {"bundle-library": lib})
        assert "-py3-none-linux" in bundled
        assert "vidmotion/libvidmotion.so.0" in check_record(tmp_path / bundled)
    sdist = be.build_sdist(str(tmp_path))
    assert sdist.endswith(".tar.gz")
    (tmp_path / "ed").mkdir()
    editable = be.build_editable(str(tmp_path / "ed"))
    with zipfile.ZipFile(tmp_path / "ed" / editable) as z:
        pth = next(n for n in z.namelist() if n.endswith(".pth"))
        assert z.read(pth).decode().strip() == str(BINDING)


def test_example_runs(box_clip: Path, tmp_path: Path) -> None:
    args = [sys.executable, str(EXAMPLE), str(box_clip), "--zone", "band=0,0.1,1,0.35"]
    try:
        import matplotlib  # noqa: F401
        png = tmp_path / "scores.png"
        args += ["--plot", str(png)]
    except ImportError:
        png = None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "MPLBACKEND": "Agg"}
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "motion in band:" in out.stdout and "320x240" in out.stdout
    if png is not None:
        assert png.stat().st_size > 1000
    bad = subprocess.run([sys.executable, str(EXAMPLE), str(tmp_path / "none.mp4")], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 3 and "not found" in bad.stderr


def test_pip_install_in_a_venv(box_clip: Path, tmp_path: Path) -> None:
    """What the README says: a venv, `pip install ./bindings/python`, import and scan."""
    lib = os.environ.get("VIDMOTION_LIBRARY")
    if not lib:
        pytest.skip("VIDMOTION_LIBRARY is not set")
    venv = tmp_path / "venv"
    py = venv / "bin" / "python"
    # Fast: a venv without its own pip that uses the system's (python3-pip), if there is
    # one; else a venv with pip from ensurepip (python3-venv), as the README does.
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip",
                           "--system-site-packages", str(venv)], capture_output=True)
    if made.returncode != 0 or subprocess.run([str(py), "-m", "pip", "--version"],
                                              capture_output=True).returncode != 0:
        made = subprocess.run([sys.executable, "-m", "venv", "--clear",
                               "--system-site-packages", str(venv)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"no venv/ensurepip here (python3-venv): {made.stderr[-200:]}")
    # PIP_NO_INDEX: if the build needed anything from an index it would fail, not download.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIDMOTION_LIBRARY")}
    env.update(PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    pip = subprocess.run([str(py), "-m", "pip", "install", str(BINDING)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    code = ("import vidmotion, sys; r = vidmotion.scan(sys.argv[1]); print(r); "
            "print(vidmotion.__file__); print(vidmotion.library_path())")
    run = subprocess.run([str(py), "-c", code, str(box_clip)],
                         env={**env, "VIDMOTION_LIBRARY": lib}, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "1 motion segment" in run.stdout
    assert str(venv) in run.stdout.splitlines()[-2]
    # bundling the library: the package finds it next to itself
    pip = subprocess.run([str(py), "-m", "pip", "install", "--force-reinstall",
                          "--config-settings", f"bundle-library={lib}", str(BINDING)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    run = subprocess.run([str(py), "-c", code, str(box_clip)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1].startswith(str(venv))
