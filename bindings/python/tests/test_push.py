"""The push API from Python (the doorbell use case): numpy arrays, bytes and memoryviews
give the same scores as decoding the clip, and live events arrive as they happen."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

import vidmotion

W, H = 320, 240
FRAME = W * H * 3 // 2


def push_all(an: vidmotion.Analyzer, yuv: bytes, make) -> vidmotion.Result:  # type: ignore[no-untyped-def]
    for i in range(len(yuv) // FRAME):
        frame, kw = make(yuv[i * FRAME:(i + 1) * FRAME])
        an.push(frame, pts=3600 * i, time_base=(1, 90000), key=i == 0, **kw)
    return an.finish("doorbell", datetime(2026, 7, 4, 14, 5, tzinfo=timezone.utc))


def same_scores(a: vidmotion.Result, b: vidmotion.Result) -> None:
    sa, sb = a.series(0, 0), b.series(0, 0)
    assert len(sa) == len(sb) == 100
    assert list(sa.changed) == list(sb.changed)
    assert list(sa.mad) == list(sb.mad)
    assert [round(x, 9) for x in sa.t] == [round(x, 9) for x in sb.t]
    assert [(s.start, s.end) for s in a.segments] == [(s.start, s.end) for s in b.segments]


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "numpy", "numpy_strided"])
def test_pushed_frames_score_like_the_decoded_clip(box_clip: Path, box_yuv: Path,
                                                   kind: str) -> None:
    scan = vidmotion.scan(box_clip, frames=True)
    yuv = box_yuv.read_bytes()
    assert len(yuv) == FRAME * 100

    if kind.startswith("numpy"):
        np = pytest.importorskip("numpy")

    def make(buf: bytes):  # type: ignore[no-untyped-def]
        if kind == "bytes":
            return buf, {"width": W, "height": H}
        if kind == "bytearray":
            return bytearray(buf), {"width": W, "height": H}
        if kind == "memoryview":
            return memoryview(buf), {"width": W, "height": H}
        y = np.frombuffer(buf, dtype=np.uint8, count=W * H).reshape(H, W)
        if kind == "numpy":
            return y, {}
        padded = np.zeros((H, W + 64), dtype=np.uint8)  # stride 384: a view, no copy
        padded[:, :W] = y
        return padded[:, :W], {}

    live: list[tuple[str, vidmotion.Segment]] = []
    with vidmotion.Analyzer(frames=True, on_event=lambda w, s: live.append((w, s))) as an:
        pushed = push_all(an, yuv, make)
    same_scores(scan, pushed)
    assert [w for w, _ in live] == ["started", "ended"]
    clip = pushed.clips[0]
    assert clip.path == "doorbell" and clip.wall_source == "caller"
    seg = pushed.segments[0]
    assert seg.wall_start is not None
    assert abs((seg.wall_start - datetime(2026, 7, 4, 14, 5, tzinfo=timezone.utc))
               .total_seconds() - seg.start) < 1e-6


def test_push_with_seconds_and_frame_callbacks() -> None:
    frames: list[vidmotion.FrameScore] = []
    with vidmotion.Analyzer(on_frame=frames.append) as an:
        black, white = bytes(64 * 48), bytes([255]) * (64 * 48)
        for i in range(60):
            an.push(white if 20 <= i < 30 else black, i / 10, width=64, height=48)
        res = an.finish()
    assert len(frames) == 60
    assert frames[0].t == 0 and abs(frames[-1].t - 5.9) < 1e-9
    assert res.clips[0].frames == 60 and res.clips[0].wall_start is None
    assert res.events  # a lighting change or motion: something happened


def test_push_rejects_bad_frames() -> None:
    with vidmotion.Analyzer() as an:
        with pytest.raises(vidmotion.InvalidArgumentError):
            an.push(bytes(10), 0.0, width=64, height=48)  # too short
        with pytest.raises(vidmotion.InvalidArgumentError):
            an.push(bytes(64 * 48), 0.0, width=64, height=48, stride=32)
        with pytest.raises(TypeError):
            an.push(bytes(64 * 48), width=64, height=48)  # no time
        with pytest.raises(TypeError):
            an.push(bytes(64 * 48), 0.0)  # no size
        np = pytest.importorskip("numpy")
        with pytest.raises(vidmotion.InvalidArgumentError):
            an.push(np.zeros((48, 64), dtype=np.float32), 0.0)
        an.push(np.zeros((48, 64, 1), dtype=np.uint8), 0.0)
        an.push(np.asfortranarray(np.zeros((48, 64), dtype=np.uint8)), 0.1)  # copied
        assert an.finish().clips[0].frames == 2
