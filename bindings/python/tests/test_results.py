"""Results: zero-copy numpy series that keep the C result alive, the fallback without
numpy, custom I/O, JSON, reprs."""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vidmotion
from vidmotion import _types as T
from vidmotion._lib import api


def test_series_are_numpy_views_of_the_result(box_clip: Path) -> None:
    np = pytest.importorskip("numpy")
    res = vidmotion.scan(box_clip, frames=True)
    s = res.series(0, "frame")
    raw = T.sized(T.Series)
    assert api.vmo_result_series(res._ptr, 0, 0, raw) == 0
    # the very memory the result owns: no copy
    assert s.changed.ctypes.data == ctypes_addr(raw.changed)
    assert s.t.ctypes.data == ctypes_addr(raw.t)
    assert s.t.dtype == np.float64 and s.changed.dtype == np.float32
    assert s.flags.dtype == np.uint8 and len(s) == 100
    assert not s.changed.flags.writeable
    want = s.changed.copy()
    del res, raw
    gc.collect()
    # the arrays keep the C result alive
    assert (s.changed == want).all() and s.changed.max() > 0.001
    assert vidmotion.FrameFlags.KEY in vidmotion.FrameFlags(int(s.flags[0]))


def ctypes_addr(p: object) -> int:
    import ctypes
    return ctypes.addressof(p.contents)  # type: ignore[attr-defined]


def test_without_frames_the_series_are_empty(box_clip: Path) -> None:
    res = vidmotion.scan(box_clip)
    assert len(res.series()) == 0
    assert list(res.frames()) == []


def test_without_numpy(box_clip: Path) -> None:
    code = f"""
import vidmotion
res = vidmotion.scan({str(box_clip)!r}, frames=True)
s = res.series()
assert isinstance(s.changed, memoryview) and s.changed.readonly and s.changed.format == 'f'
assert len(s.t) == 100 and max(s.changed) > 0.001
del res
import gc; gc.collect()
print(sum(1 for _ in s.t), s.flags[0], round(max(s.changed), 3))
"""
    env = {**os.environ, "VIDMOTION_NO_NUMPY": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("100 ")


def test_memory_and_file_objects_give_the_same_result(box_clip: Path) -> None:
    want = vidmotion.scan(box_clip, frames=True).to_dict(frames=True)
    data = box_clip.read_bytes()
    with vidmotion.Analyzer(frames=True) as an:
        from_bytes = an.scan(data, name=str(box_clip)).to_dict(frames=True)
        with open(box_clip, "rb") as f:
            from_file = an.scan(f).to_dict(frames=True)
        from_bytesio = an.scan(io.BytesIO(data), name=str(box_clip)).to_dict(frames=True)
    for got in (from_bytes, from_file, from_bytesio):
        got["clips"][0]["size"] = want["clips"][0]["size"]
        assert got == want


def test_an_exception_in_read_is_reraised(box_clip: Path) -> None:
    class Flaky(io.BytesIO):
        def readinto(self, b):  # type: ignore[no-untyped-def,override]
            if self.tell() > 10000:
                raise OSError("the camera went away")
            return super().readinto(b)

    with pytest.raises(OSError, match="went away"):
        vidmotion.scan(Flaky(box_clip.read_bytes()))


def test_json_and_text(box_clip: Path) -> None:
    res = vidmotion.scan(box_clip, zones={"band": "0,0.1,1,0.35"})
    doc = json.loads(res.to_json(pretty=True))
    assert doc["zones"] == ["band"] and len(doc["segments"]) == 1
    assert "frames" not in doc
    assert repr(res) == "<vidmotion.Result clips=1 segments=1 lighting=0 zones=['band']>"
    text = str(res)
    assert "1 motion segment" in text and "band" in text and "320x240" in text
    seg = res.segments[0]
    assert 0.9 < seg.start < 1.2 and 2.8 < seg.end < 3.2 and seg.duration == seg.end - seg.start
    assert res.motion


def test_options_and_config() -> None:
    opts = {o.name: o for o in vidmotion.options()}
    assert opts["width"].default == 320 and opts["frames"].type == "bool"
    cfg = vidmotion.Config(width=640, lighting=False, merge_gap=0.5)
    assert cfg["width"] == 640 and cfg["lighting"] is False and cfg["merge_gap"] == 0.5
    cfg["threshold"] = 6
    cfg.add_zone("porch", (0.1, 0.4, 0.6, 1))
    cfg.add_mask("street", "0,0,1,0.3")
    assert cfg.zone_names == ["porch"]
    assert "width=640" in repr(cfg)
    with vidmotion.Analyzer(cfg, threshold=8) as an:
        assert an.zones == ["porch"]
    assert cfg["threshold"] == 6  # the analyzer changed its own copy


def test_times() -> None:
    from datetime import datetime, timezone
    dt = vidmotion.parse_time("2026-07-04 16:05:00+02:00")
    assert dt == datetime(2026, 7, 4, 14, 5, tzinfo=timezone.utc)
    assert vidmotion.parse_time("01:30") == 90.0
    assert vidmotion.format_time(dt) == "2026-07-04T14:05:00.000Z"
    assert vidmotion.format_time(datetime(2026, 7, 4, 14, 5)) == "2026-07-04T14:05:00.000Z"


@pytest.fixture(scope="module")
def saved(box_clip: Path) -> vidmotion.Result:
    return vidmotion.scan(box_clip, frames=True)


def test_pickle_and_bytes(saved: vidmotion.Result) -> None:
    if not api.has("vmo_result_save"):
        pytest.skip("vmo_result_save is not in this libvidmotion yet")
    import pickle
    back = pickle.loads(pickle.dumps(saved))
    assert back.to_json(frames=True) == saved.to_json(frames=True)
    with pytest.raises((vidmotion.CorruptError, vidmotion.UnsupportedError)):
        vidmotion.Result.from_bytes(b"\0" * 64)


def test_heatmap(box_clip: Path) -> None:
    if not api.has("vmo_result_heatmap"):
        pytest.skip("vmo_result_heatmap is not in this libvidmotion yet")
    try:
        res = vidmotion.scan(box_clip, heatmap=True)
    except vidmotion.UnknownOptionError:
        pytest.skip("no heatmap option yet")
    h = res.heatmap(0)
    np = pytest.importorskip("numpy")
    assert h.shape == (18, 32) and h.dtype == np.uint32 and h.sum() > 0
    with pytest.raises(vidmotion.StateError):
        vidmotion.scan(box_clip).heatmap(0)


def test_merge_equals_one_request(wall_clips: list[Path]) -> None:
    if not api.has("vmo_result_merge"):
        pytest.skip("vmo_result_merge is not in this libvidmotion yet")
    with vidmotion.Analyzer(frames=True) as an:
        parts = [an.run([p]) for p in wall_clips]
        whole = an.run(wall_clips)
    merged = vidmotion.merge(parts)
    assert merged.to_json(frames=True) == whole.to_json(frames=True)
    assert [c.path for c in merged.clips] == [str(p) for p in wall_clips]


def test_probe_reads_the_header_only(tmp_path, box_clip) -> None:
    import shutil

    named = tmp_path / "cam7_20260704T140000Z.mp4"
    shutil.copy(box_clip, named)
    clip = vidmotion.probe(named)
    assert clip.status == "ok" and clip.frames == 0 and clip.codec
    assert clip.wall_source == "filename"
    assert clip.wall_start.isoformat().startswith("2026-07-04T14:00:00")
    missing = vidmotion.probe(tmp_path / "none.mp4")
    assert missing.status == "error" and missing.error_code == vidmotion.NotFoundError.code
