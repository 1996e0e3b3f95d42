"""Callbacks: frame/event/progress reports, planes valid only during the call, exceptions
re-raised (never a crash), cancellation, threads, Ctrl-C, the log handler."""

from __future__ import annotations

import _thread
import sys
import threading
import time
from pathlib import Path

import pytest

import vidmotion


def test_frame_event_and_progress_reports(box_clip: Path) -> None:
    frames: list[vidmotion.FrameScore] = []
    events: list[tuple[str, vidmotion.Segment]] = []
    progress: list[vidmotion.Progress] = []
    planes = []

    def on_frame(f: vidmotion.FrameScore) -> None:
        frames.append(f)
        assert f.plane is not None and f.plane.width == 320 and f.plane.stride >= 320
        if len(frames) == 50:
            planes.append((f.plane, f.plane.copy(), f.plane.tobytes()))

    with vidmotion.Analyzer(zones={"band": "0,0.1,1,0.35"}, frames=True, on_frame=on_frame,
                            on_event=lambda what, seg: events.append((what, seg)),
                            on_progress=progress.append) as an:
        res = an.scan(box_clip)
    assert len(frames) == 100
    assert [f.index for f in frames] == list(range(100))
    assert all(set(f.changed) == {"band"} for f in frames)
    # the reports equal the stored series
    s = res.series(0, "band")
    assert [f.t for f in frames] == list(s.t)
    assert [f.changed["band"] for f in frames] == [float(v) for v in s.changed]
    assert [w for w, _ in events] == ["started", "ended"]
    assert events[1][1].zone == "band" and events[1][1].clip == str(box_clip)
    assert abs(events[1][1].start - res.segments[0].start) < 1e-9
    assert progress and progress[-1].clip == 0 and progress[-1].clip_count == 1
    plane, copy, raw = planes[0]
    with pytest.raises(vidmotion.StateError):
        plane.view()  # expired after its callback
    assert len(raw) == 320 * 240
    try:
        import numpy as np
    except ImportError:
        assert isinstance(copy, bytes)
    else:
        assert copy.shape == (240, 320) and copy.dtype == np.uint8
        assert 60 < copy.mean() < 200


def test_plane_view_inside_the_callback(box_clip: Path) -> None:
    np = pytest.importorskip("numpy")
    sums = []

    def on_frame(f: vidmotion.FrameScore) -> None:
        v = f.plane.view()
        assert v.shape == (240, 320) and not v.flags.writeable
        sums.append(int(v.sum()))
        assert int(f.plane.copy().sum()) == sums[-1]

    vidmotion.scan(box_clip, on_frame=on_frame)
    assert len(sums) == 100 and len(set(sums)) > 1
    _ = np


class Boom(Exception):
    pass


@pytest.mark.parametrize("where", ["on_frame", "on_event", "on_progress"])
def test_an_exception_in_a_callback_is_reraised_not_a_crash(box_clip: Path, where: str) -> None:
    calls = []

    def bad(*args: object) -> None:
        calls.append(1)
        raise Boom(where)

    with vidmotion.Analyzer(**{where: bad}) as an:
        with pytest.raises(Boom) as info:
            an.scan(box_clip)
        assert calls == [1], "no callback after the one that raised"
        assert any("stopped" in n for n in getattr(info.value, "__notes__", []))
        # the analyzer is still usable
        setattr(an, where, None)
        assert an.scan(box_clip).segments


def test_an_exception_in_a_request_callback_on_worker_threads(wall_clips: list[Path]) -> None:
    threads = set()

    def bad(f: vidmotion.FrameScore) -> None:
        threads.add(threading.get_ident())
        if f.clip == 1 and f.index == 20:
            raise Boom("in a worker")

    with vidmotion.Analyzer(jobs=2, on_frame=bad) as an:
        with pytest.raises(Boom):
            an.run(wall_clips)
        an.on_frame = None
        assert len(an.run(wall_clips).clips) == 2
    assert threads


def test_a_callback_returning_true_cancels(box_clip: Path) -> None:
    with vidmotion.Analyzer(on_progress=lambda p: True) as an:
        with pytest.raises(vidmotion.CancelledError) as info:
            an.scan(box_clip)
        assert info.value.result is not None


def test_cancel_from_another_thread(box_clip: Path) -> None:
    started = threading.Event()

    def slow(f: vidmotion.FrameScore) -> None:
        started.set()
        time.sleep(0.01)

    with vidmotion.Analyzer(on_frame=slow) as an:
        threading.Thread(target=lambda: (started.wait(), an.cancel())).start()
        with pytest.raises(vidmotion.CancelledError) as info:
            an.scan(box_clip)
        assert info.value.result.clips[0].frames < 100


def test_calling_the_analyzer_from_its_own_callback_is_an_error(box_clip: Path) -> None:
    errors = []

    def reenter(f: vidmotion.FrameScore) -> bool:
        try:
            an.scan(box_clip)
        except vidmotion.StateError as e:
            errors.append(e)
        return True

    with vidmotion.Analyzer(on_frame=reenter) as an:
        with pytest.raises(vidmotion.CancelledError):
            an.scan(box_clip)
    assert len(errors) == 1


def test_ctrl_c_stops_a_scan(box_clip: Path) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("needs the main thread")
    slow = lambda f: time.sleep(0.02)  # noqa: E731 - 100 frames = 2 s
    threading.Timer(0.2, _thread.interrupt_main).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        vidmotion.scan(box_clip, on_frame=slow)
    assert time.monotonic() - t0 < 1.5


def test_ctrl_c_stops_a_request(wall_clips: list[Path]) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("needs the main thread")
    slow = lambda f: time.sleep(0.02)  # noqa: E731
    threading.Timer(0.2, _thread.interrupt_main).start()
    t0 = time.monotonic()
    with vidmotion.Analyzer(jobs=2, on_frame=slow) as an:
        with pytest.raises(KeyboardInterrupt):
            an.run(wall_clips)
    assert time.monotonic() - t0 < 2.0


def test_analyzers_in_threads_run_in_parallel_and_agree(box_clip: Path) -> None:
    want = vidmotion.scan(box_clip, frames=True).to_json(frames=True)
    got: list[str] = []
    shared = vidmotion.Analyzer(frames=True)

    def work(an: vidmotion.Analyzer | None) -> None:
        if an is None:
            with vidmotion.Analyzer(frames=True) as own:
                got.append(own.scan(box_clip).to_json(frames=True))
        else:
            got.append(an.scan(box_clip).to_json(frames=True))

    ts = [threading.Thread(target=work, args=(a,)) for a in (None, None, shared, shared)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    shared.close()
    assert got == [want] * 4


def test_iter_frames(box_clip: Path) -> None:
    with vidmotion.iter_frames(box_clip, zones={"band": "0,0.1,1,0.35"}, planes=True) as it:
        frames = list(it)
    assert len(frames) == 100 and it.result is not None
    assert it.result.segments and it.result.segments[0].zone == "band"
    assert frames[50].plane is not None and frames[50].changed["band"] > 0
    # leaving early cancels the scan and still gives the partial result
    with vidmotion.Analyzer() as an:
        stream = an.iter_frames(box_clip, buffer=2)
        for f in stream:
            if f.index == 10:
                with pytest.raises(vidmotion.StateError):
                    an.scan(box_clip)  # busy with the open stream
                break
        stream.close()
        assert stream.result is not None and stream.result.clips[0].frames < 100
        assert an.scan(box_clip).clips[0].frames == 100  # usable again


def test_iter_frames_reraises_errors(tmp_path: Path) -> None:
    with pytest.raises(vidmotion.NotFoundError):
        for _ in vidmotion.iter_frames(tmp_path / "missing.mp4"):
            pass


def test_log_handler(box_clip: Path) -> None:
    got: list[tuple[int, str]] = []
    vidmotion.set_log_handler(lambda lvl, msg: got.append((lvl, msg)), vidmotion.log.DEBUG)
    try:
        vidmotion.scan(box_clip)
    finally:
        vidmotion.set_log_handler(None)
    assert got and all(isinstance(m, str) for _, m in got)
    n = len(got)
    vidmotion.scan(box_clip)
    assert len(got) == n  # silent again


def test_an_exception_in_the_log_handler_is_reported_not_fatal(box_clip: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def bad(level: int, msg: str) -> None:
        raise Boom(msg)

    vidmotion.set_log_handler(bad, vidmotion.log.DEBUG)
    try:
        assert vidmotion.scan(box_clip).segments
    finally:
        vidmotion.set_log_handler(None)
    assert reported and isinstance(reported[0].exc_value, Boom)
