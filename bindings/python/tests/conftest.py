"""Fixtures of the binding's tests: clips made with FFmpeg (nothing outside the repository is
needed), the library and the CLI under test (VIDMOTION_LIBRARY / VIDMOTION_CLI, set by
ctest), and the repository's paths."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BINDING = HERE.parent
REPO = BINDING.parent.parent
HEADER = REPO / "include" / "vidmotion" / "vidmotion.h"

# Test the package of this source tree (not an installed copy), unless asked otherwise.
if not os.environ.get("VIDMOTION_TEST_INSTALLED"):
    sys.path.insert(0, str(BINDING))

import vidmotion  # noqa: E402
from vidmotion._lib import api  # noqa: E402

# A 32x32 white box crossing a static noisy grey background between t = 1 s and t = 3 s,
# inside the band y = 40..72 of a 320x240 frame (the same clip as tests/test_api.c).
BOX_ARGS = [
    "-f", "lavfi", "-i", "color=c=0x707070:s=320x240:r=25:d=4,noise=alls=40:allf=u",
    "-f", "lavfi", "-i", "color=c=white:s=32x32:r=25:d=4",
    "-filter_complex", "[0][1]overlay=x='if(lt(t,1),20,if(lt(t,3),20+(t-1)*100,220))':y=40",
    "-c:v", "libx264", "-crf", "18", "-g", "1000", "-pix_fmt", "yuv420p",
    "-movflags", "+faststart",
]


def fixture_dir() -> Path:
    d = Path(os.environ.get("VIDMOTION_FIXTURES") or (BINDING / "tests" / ".fixtures"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def make_clip(name: str, args: list[str]) -> Path:
    """``ffmpeg ARGS fixtures/NAME``, once (kept between runs)."""
    out = fixture_dir() / name
    if out.exists() and out.stat().st_size > 0:
        return out
    tmp = out.with_name(f".tmp{os.getpid()}_{name}")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(tmp)], check=True)
    os.replace(tmp, out)
    return out


def has(symbol: str) -> bool:
    return api.has(symbol)


def needs(*symbols: str) -> pytest.MarkDecorator:
    """Skips a test until the library has these functions (they land one by one in C)."""
    missing = [s for s in symbols if not has(s)]
    return pytest.mark.skipif(bool(missing), reason=f"not in this libvidmotion yet: {missing}")


@pytest.fixture(scope="session")
def box_clip() -> Path:
    return make_clip("py_box.mp4", BOX_ARGS)


@pytest.fixture(scope="session")
def box_yuv(box_clip: Path) -> Path:
    """The box clip decoded to raw yuv420p (100 frames of 320x240)."""
    out = fixture_dir() / "py_box.yuv"
    if not out.exists():
        tmp = out.with_name(f".tmp{os.getpid()}_py_box.yuv")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(box_clip), "-f",
                        "rawvideo", "-pix_fmt", "yuv420p", str(tmp)], check=True)
        os.replace(tmp, out)
    return out


@pytest.fixture(scope="session")
def wall_clips() -> list[Path]:
    """Two contiguous 4 s clips with wall-clock starts in their names (14:00:00 and
    14:00:04 UTC); a box crosses the first from 1 s to 3 s, and the second from 2 s."""
    a = make_clip("cam1_20260704T140000Z.mp4", BOX_ARGS)
    b_args = [x.replace("if(lt(t,1),20,if(lt(t,3),20+(t-1)*100,220))",
                        "if(lt(t,2),20,20+(t-2)*100)") for x in BOX_ARGS]
    b = make_clip("cam1_20260704T140004Z.mp4", b_args)
    return [a, b]


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    p = REPO / "samples" / "sample.mp4"
    if not p.exists():
        pytest.skip("samples/sample.mp4 is missing")
    return p


@pytest.fixture(scope="session")
def cli() -> str:
    exe = os.environ.get("VIDMOTION_CLI") or shutil.which("vidmotion")
    if not exe:
        pytest.skip("VIDMOTION_CLI is not set and no vidmotion command is on PATH")
    return exe


@pytest.fixture(scope="session")
def cc() -> str:
    exe = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not exe:
        pytest.skip("no C compiler")
    return exe
