"""vidmotion.distributed on a LocalCluster of 2 worker processes: the answer equals the
single-process answer (the CLI's --json over the same clips in the same order) whatever the
runs, clips that fail are listed, a worker killed mid-task costs nothing, motion indexes
answer clips without decoding, and the checks one request makes happen before any scan.

Clips are synthesized with FFmpeg (see the fixtures): cameras whose clips follow each other
in wall-clock time (creation_time tags, or time stamps in the names) with motion crossing
file boundaries, a clip that is not a video, and a camera without wall-clock times."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from conftest import BINDING, fixture_dir  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import vidmotion  # noqa: E402
from vidmotion import _partition as plan  # noqa: E402
from vidmotion import distributed as vd  # noqa: E402

# The hook installed in a worker below is defined here: ship it by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ZONES = {"left": "0,0,0.5,1", "right": "0.5,0,1,1"}
MASKS = {"corner": "0.9,0,1,0.1"}
CLI_ZONES = ["--zone", "left=0,0,0.5,1", "--zone", "right=0.5,0,1,1",
             "--mask", "corner=0.9,0,1,0.1"]


# ------------------------------------------------------------------------------------------
# Clips
# ------------------------------------------------------------------------------------------

def _box_args(seconds: float, x_expr: str, y: int, offset: float, *, audio: bool = False,
              creation_time: str | None = None) -> list[str]:
    """A white 32x32 box over a noisy grey 320x240 background; its x position follows
    x_expr of T, the time on a timeline shared by consecutive clips (T = t + offset)."""
    x = x_expr.replace("T", f"(t+{offset})")
    args = ["-f", "lavfi", "-i", f"color=c=0x707070:s=320x240:r=25:d={seconds},"
                                 "noise=alls=40:allf=u",
            "-f", "lavfi", "-i", f"color=c=white:s=32x32:r=25:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:a=0.02:r=16000"]
    args += ["-filter_complex", f"[0][1]overlay=x='{x}':y={y}[v]", "-map", "[v]"]
    if audio:
        args += ["-map", "2:a", "-c:a", "aac", "-b:a", "32k"]
    args += ["-c:v", "libx264", "-crf", "18", "-g", "50", "-pix_fmt", "yuv420p"]
    if creation_time:
        args += ["-metadata", f"creation_time={creation_time}"]
    return args + ["-movflags", "+faststart"]


# cam2: three consecutive 6 s clips across midnight with creation_time tags and an audio
# track (like ../shared/testdata's cam2); motion 1.5-3.5 s, 4.5-8 s (crosses the first
# boundary), 13-15 s; then a file that is not a video, named as the next clip.
CAM2_X = ("30+60*(clip(T,1.5,3.5)-1.5)-40*(clip(T,4.5,8)-4.5)+50*(clip(T,13,15)-13)")
CAM2 = [("cam2_20251102T235954Z.mp4", "2025-11-02T23:59:54Z", 0),
        ("cam2_20251103T000000Z.mp4", "2025-11-03T00:00:00Z", 6),
        ("cam2_20251103T000006Z.mp4", "2025-11-03T00:00:06Z", 12)]
# cam4: eight consecutive 2 s clips, times in the names only; one movement from 1 s to 9 s
# crosses four boundaries, another 12.5-15.5 s.
CAM4_X = "20+30*(clip(T,1,9)-1)-60*(clip(T,12.5,15.5)-12.5)"


def make(rel: str, args: list[str]) -> Path:
    """``ffmpeg ARGS fixtures/dask/REL``, once (kept between runs, like conftest's clips)."""
    out = fixture_dir() / "dask" / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and out.stat().st_size > 0:
        return out
    tmp = out.with_name(f".tmp{os.getpid()}_{out.name}")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(tmp)], check=True)
    os.replace(tmp, out)
    return out


@pytest.fixture(scope="module")
def clips(wall_clips: list[Path]) -> dict[str, list[Path]]:
    """Clips per camera, in a scrambled order (the plan must sort them)."""
    cam2 = [make(name, _box_args(6, CAM2_X, 100, off, audio=True, creation_time=tag))
            for name, tag, off in CAM2]
    broken = fixture_dir() / "dask" / "cam2_20251103T000012Z.mp4"
    if not broken.exists():
        broken.write_text("not a video\n")
    cam4 = [make(f"cam4_20260101T0000{2 * k:02d}Z.mp4", _box_args(2, CAM4_X, 150, 2 * k))
            for k in range(8)]
    door = [make(f"door/{n}.mp4", _box_args(2, CAM4_X, 60, 0)) for n in ("front", "back")]
    return {"cam1": list(wall_clips), "cam2": [cam2[2], broken, cam2[0], cam2[1]],
            "cam4": cam4[3:] + cam4[:3], "door": door}


def flat(clips: dict[str, list[Path]], *cams: str) -> list[str]:
    return [str(p) for c in cams for p in clips[c]]


# ------------------------------------------------------------------------------------------
# The cluster and the single-process answer
# ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client() -> Any:
    """2 worker processes of 1 thread each; they import this source tree's package."""
    path = os.pathsep.join([str(BINDING), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = path
    try:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        c = Client(cluster)
        c.wait_for_workers(2, timeout=60)
        yield c
        c.close()
        cluster.close()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def cli_json(cli: str, paths: list[str], *args: str, command: str = "query") -> dict[str, Any]:
    p = subprocess.run([cli, command, "--json", "--frames", "-q", *CLI_ZONES, *args, *paths],
                       capture_output=True, text=True)
    assert p.returncode in (0, 1, 3), p.stderr  # motion, none, an input failed
    return json.loads(p.stdout)


def assert_same_as_cli(cli: str, answer: vd.DistributedResult, *args: str,
                       command: str = "query") -> None:
    """Each camera's result equals the CLI's JSON over that camera's clips in the order of
    the result: clip for clip, segment for segment, frame for frame."""
    for cam, res in answer.items():
        want = cli_json(cli, [c.path for c in res.clips], *args, command=command)
        got = res.to_dict(frames=True)
        assert got["clips"] == want["clips"], cam
        assert got["segments"] == want["segments"], cam
        assert got == want, cam


def camera_of(clips: dict[str, list[Path]], path: str) -> str:
    return next(c for c, ps in clips.items() if path in map(str, ps))


def wall_order_ok(res: vidmotion.Result) -> bool:
    starts = [c.wall_start.timestamp() if c.wall_start else math.inf for c in res.clips]
    return starts == sorted(starts)


# ------------------------------------------------------------------------------------------
# The plan (no cluster)
# ------------------------------------------------------------------------------------------

def test_cameras_from_paths() -> None:
    assert plan.default_camera("/a/cam1_20260704T140000Z.mp4") == "/a/cam1"
    assert plan.default_camera("/a/cam-2.2026-07-04_14-00-00.mkv") == "/a/cam-2"
    assert plan.default_camera("/a/door/20260704T140000Z.mp4") == "/a/door"
    assert plan.default_camera("/a/door/front.mp4") == "/a/door"
    assert plan.default_camera("cam1_20260704_140000.mp4") == "cam1"
    url = "https://h/b/cam9_20260704T140000Z.mp4?sig=2026"
    assert plan.default_camera(url) == "https://h/b/cam9"
    # a number that is not a stamp stays in the name
    assert plan.default_camera("/a/cam12345678_20260704T140000Z.mp4") == "/a/cam12345678"


def test_order_checks_and_runs() -> None:
    t = [plan.ClipTime("c", 20.0, 10.0), plan.ClipTime("x"), plan.ClipTime("a", 0.0, 10.0),
         plan.ClipTime("b", 10.0, 10.0)]
    assert plan.order_clips(t) == [2, 3, 0, 1]
    assert plan.check_clips(t, wall_window=False) is None
    # a long clip overlaps a later one that its neighbour does not
    t2 = [plan.ClipTime("a", 0.0, 100.0), plan.ClipTime("b", 10.0, 0.3),
          plan.ClipTime("c", 50.0, 10.0)]
    r = plan.check_clips(t2, wall_window=False)
    assert r is not None and r.code == vidmotion.OverlapError.code and "'a' and 'c'" in r.message
    assert plan.check_clips([plan.ClipTime("a", 0, 10), plan.ClipTime("b", 9.6, 10)],
                            False) is None  # within the library's slack
    r = plan.check_clips([plan.ClipTime("d/a.mp4"), plan.ClipTime("d/./a.mp4")], False)
    assert r is not None and "same file" in r.message
    r = plan.check_clips([plan.ClipTime("a", file_id=(1, 2, 3)),
                          plan.ClipTime("b", file_id=(1, 2, 3))], False)
    assert r is not None and r.message == "'a' and 'b' are the same file"
    untimed = [plan.ClipTime("u", untimed=True)]
    assert plan.check_clips(untimed, wall_window=False) is None
    assert plan.check_clips(untimed, wall_window=True).code == vidmotion.NoTimeSourceError.code
    assert [len(r) for r in plan.split_runs(7, 3)] == [3, 2, 2]
    assert [list(r) for r in plan.split_runs(3, 5)] == [[0, 1, 2]]
    assert plan.split_runs(0, 4) == []
    assert plan.run_size(200, 2) == 7 and plan.run_size(10**6, 8) == 64
    assert plan.run_size(3, 4) == 1


# ------------------------------------------------------------------------------------------
# The distributed answer equals one process's
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("run_size", [1, None])
def test_same_answer_as_one_process(client: Any, clips: dict[str, list[Path]], cli: str,
                                    run_size: int | None) -> None:
    paths = flat(clips, "cam4", "cam2", "door", "cam1")
    ans = vd.request(client, paths, None, ZONES, masks=MASKS, frames=True, run_size=run_size)
    assert set(ans) == {plan.default_camera(p) for p in paths}
    assert sorted(c.path for _, c in ans.clips) == sorted(paths)
    for cam, res in ans.items():
        assert len({camera_of(clips, c.path) for c in res.clips}) == 1, cam
        assert wall_order_ok(res), cam
    # the file that is not a video is listed with its error; the rest is answered
    assert [(c.path, c.error_code) for _, c in ans.failed] == [
        (str(clips["cam2"][1]), vidmotion.NotMediaError.code)]
    cam2 = ans[plan.default_camera(str(clips["cam2"][0]))]
    assert [c.wall_source for c in cam2.clips] == ["creation_time"] * 3 + ["filename"]
    cam4 = ans[plan.default_camera(str(clips["cam4"][0]))]
    crossing = [s for s in cam4.segments if len(s.sources) > 1]
    assert crossing and max(len(s.sources) for s in crossing) >= 3
    assert any(len(s.sources) == 2 for s in cam2.segments)  # across midnight
    assert ans.stats.runs >= ans.stats.cameras and ans.stats.work_seconds > 0
    if run_size == 1:
        assert ans.stats.runs == len(paths) and len(ans.stats.workers) == 2
    assert_same_as_cli(cli, ans)


@pytest.mark.parametrize("window", [("2025-11-02T23:59:57Z", "2025-11-03T00:00:10Z"),
                                    ("2026-01-01T00:00:03Z", "2026-01-01T00:00:13.5Z")])
def test_wall_clock_windows(client: Any, clips: dict[str, list[Path]], cli: str,
                            window: tuple[str, str]) -> None:
    paths = flat(clips, "cam1", "cam2", "cam4")
    ans = vd.request(client, paths, window, ZONES, masks=MASKS, frames=True, run_size=2,
                     use_index=False)
    flags = [c.flags for _, c in ans.clips]
    assert any(vidmotion.ClipFlags.SKIPPED in f for f in flags)
    assert any(s.clipped for _, s in ans.segments)
    assert_same_as_cli(cli, ans, "--from", window[0], "--to", window[1], command="scan")


def test_motion_indexes_answer_without_decoding(client: Any, clips: dict[str, list[Path]],
                                                cli: str, tmp_path: Path) -> None:
    copies = []
    for p in clips["cam4"] + clips["cam2"][:1]:
        copies.append(tmp_path / p.name)
        shutil.copy(p, copies[-1])
    paths = [str(p) for p in copies]
    broken = str(clips["cam2"][1])  # not a video: reported, not raised
    first = vd.index(client, [*paths, broken], run_size=2)
    assert first.counts == {"indexed": len(paths), "valid": 0, "error": 1}, first.failed
    assert [(c.path, c.error_code) for c in first.failed] == [
        (broken, vidmotion.NotMediaError.code)]
    assert all(vidmotion.check_index(p).ok for p in paths)
    again = vd.index(client, paths)
    assert again.counts == {"indexed": 0, "valid": len(paths), "error": 0}
    ans = vd.request(client, paths, None, ZONES, masks=MASKS, frames=True, run_size=3)
    assert all(vidmotion.ClipFlags.INDEXED in c.flags for _, c in ans.clips)
    assert_same_as_cli(cli, ans)
    # an index made with other settings is not used: those clips are decoded
    other = vd.request(client, paths[:2], None, threshold=9)
    assert not any(vidmotion.ClipFlags.INDEXED in c.flags for _, c in other.clips)


def test_wall_clock_starts_given_by_the_caller(client: Any, clips: dict[str, list[Path]],
                                                cli: str) -> None:
    """(path, start) pairs: the caller's start wins over the tag and the name, as in
    Request.add; here the same instants, so only wall_source differs from the CLI."""
    pairs = [(p, datetime.strptime(p.name[5:20], "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc))
             for p in clips["cam4"]]  # cam4_20260101T000006Z.mp4
    ans = vd.request(client, pairs, None, ZONES, masks=MASKS, run_size=3)
    (res,) = ans.values()
    assert {c.wall_source for c in res.clips} == {"caller"}
    want = cli_json(cli, [c.path for c in res.clips])
    got = res.to_dict()
    for c in want["clips"]:
        c["wall_source"] = "caller"
    assert got["clips"] == want["clips"] and got["segments"] == want["segments"]


# ------------------------------------------------------------------------------------------
# What one request refuses is refused before any scan
# ------------------------------------------------------------------------------------------

def test_refusals(client: Any, clips: dict[str, list[Path]], cli: str,
                  tmp_path: Path) -> None:
    with pytest.raises(vidmotion.UnknownZoneError):
        vd.request(client, flat(clips, "cam4"), select="porch")
    with pytest.raises(vidmotion.BadZoneError):
        vd.request(client, flat(clips, "cam4"), zones={"bad": "0,0,2,2"})
    # a wall-clock window and clips without a wall clock (the CLI says the same: exit 2)
    door = flat(clips, "door")
    window = ("2026-01-01T00:00:00Z", None)
    with pytest.raises(vidmotion.NoTimeSourceError, match="no wall-clock start"):
        vd.request(client, door + flat(clips, "cam4"), window)
    assert subprocess.run([cli, "scan", "-q", "--from", window[0], *door],
                          capture_output=True).returncode == 2
    # the same clip under two names, in two different runs: one request refuses it
    originals = sorted(clips["cam4"])
    cam4 = [str(tmp_path / p.name) for p in originals]
    for src, dst in zip(originals, cam4):
        shutil.copy(src, dst)
    twin = tmp_path / "cam4_20260101T000005Z.mp4"  # 00:00:05-07: overlaps 04-06 and 06-08
    shutil.copy(originals[0], twin)
    with pytest.raises(vidmotion.OverlapError, match="overlap by"):
        vd.request(client, cam4 + [str(twin)], run_size=1)
    assert subprocess.run([cli, "scan", "-q", *sorted(cam4 + [str(twin)])],
                          capture_output=True).returncode == 2
    with pytest.raises(vidmotion.OverlapError, match="same file"):
        vd.request(client, cam4[:2] + [cam4[0]], run_size=1)
    # ... also under another name (a link): the library compares inodes
    link = tmp_path / "cam4_20260101T000100Z.mp4"
    link.symlink_to(cam4[0])
    with pytest.raises(vidmotion.OverlapError, match="same file"):
        vd.request(client, cam4 + [str(link)], run_size=1)
    assert subprocess.run([cli, "scan", "-q", *cam4, str(link)],
                          capture_output=True).returncode == 2


def test_workers_of_another_version_are_refused(client: Any, monkeypatch: Any,
                                                clips: dict[str, list[Path]]) -> None:
    found = vd.check_workers(client)
    assert len(found) == 2
    assert {v[1] for v in found.values()} == {vidmotion.library_version()}
    real = vd._identity()
    monkeypatch.setattr(vd, "_identity", lambda: (real[0], "9.9.9", real[2]))
    with pytest.raises(vd.WorkerMismatchError, match="9.9.9"):
        vd.request(client, flat(clips, "cam1"))


# ------------------------------------------------------------------------------------------
# A worker killed mid-task
# ------------------------------------------------------------------------------------------

def _install_pause(marker_dir: str) -> None:
    """Runs in one worker: its first scan task announces itself (a file named by its pid)
    and then waits to be killed."""
    import vidmotion.distributed as d

    def hook(kind: str, paths: list[str]) -> None:
        Path(marker_dir, str(os.getpid())).touch()
        time.sleep(60)

    d._task_hook = hook


def test_a_killed_worker_costs_nothing(client: Any, clips: dict[str, list[Path]], cli: str,
                                       tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    victim = sorted(client.scheduler_info()["workers"])[0]
    client.run(_install_pause, str(markers), workers=[victim])
    killed: dict[str, int] = {}

    def kill_when_busy() -> None:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            for m in markers.iterdir():
                killed["pid"] = int(m.name)
                os.kill(killed["pid"], signal.SIGKILL)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_when_busy, daemon=True)
    killer.start()
    paths = flat(clips, "cam2", "cam4")
    ans = vd.request(client, paths, None, ZONES, masks=MASKS, frames=True, run_size=1)
    killer.join()
    assert "pid" in killed, "no scan task reached the worker with the hook"
    assert killed["pid"] not in {p.pid for p in ans.stats.parts}
    assert sorted(c.path for _, c in ans.clips) == sorted(paths)
    assert_same_as_cli(cli, ans)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
