"""Errors raised for real: each bad input, option, zone, time or state gives its own class,
with the library's message."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

import vidmotion
from vidmotion.errors import Error

from conftest import make_clip, needs


def expect(cls: type[Error], fn, *args, **kw) -> Error:  # type: ignore[no-untyped-def]
    with pytest.raises(cls) as info:
        fn(*args, **kw)
    e = info.value
    assert type(e) is cls or isinstance(e, cls)
    assert e.code == cls.code
    assert e.message, f"{cls.__name__} without a message"
    return e


@pytest.fixture()
def scratch(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(name: str, data: bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(data)
        return p
    return write


def test_each_bad_input_has_its_own_error(tmp_path: Path, scratch) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "does-not-exist.mp4"
    e = expect(vidmotion.NotFoundError, vidmotion.scan, missing)
    assert isinstance(e, vidmotion.Error)
    expect(vidmotion.EmptyInputError, vidmotion.scan, scratch("empty.mp4", b""))
    noise = random.Random(7).randbytes(4096)
    expect(vidmotion.CorruptError, vidmotion.scan, scratch("random.mp4", noise))
    expect(vidmotion.NotMediaError, vidmotion.scan,
           scratch("text.mkv", b"This is a text file, renamed to look like a video.\n"))
    audio = make_clip("py_audio.m4a", ["-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac"])
    expect(vidmotion.NoVideoError, vidmotion.scan, audio)
    # the same errors through custom I/O and from memory
    expect(vidmotion.NotMediaError, vidmotion.scan, b"just some text, not a video at all\n")


def test_a_truncated_clip_is_a_result_that_says_so(scratch) -> None:  # type: ignore[no-untyped-def]
    whole = make_clip("py_long.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=8",
                                      "-c:v", "libx264", "-crf", "30", "-movflags",
                                      "+faststart"])
    data = whole.read_bytes()
    res = vidmotion.scan(scratch("cut.mp4", data[: len(data) * 6 // 10]))
    clip = res.clips[0]
    assert clip.status == "truncated" and clip.ok
    assert vidmotion.ClipFlags.TRUNCATED in clip.flags
    assert isinstance(clip.exception, vidmotion.TruncatedError)
    assert 50 < clip.frames < 200
    clip.raise_for_status()  # truncated is not a failure


def test_option_and_zone_errors() -> None:
    e = expect(vidmotion.InvalidArgumentError, vidmotion.Config, width=5)
    assert "width" in e.message
    assert isinstance(e, ValueError)
    expect(vidmotion.UnknownOptionError, vidmotion.Config, no_such_option=1)
    expect(vidmotion.InvalidArgumentError, vidmotion.Config, merge_gap="half")
    expect(vidmotion.BadZoneError, vidmotion.Config, zones={"door": "0,0,0.5,1.5"})
    expect(vidmotion.BadZoneError, vidmotion.Config, zones={"door": (0.5, 0, 0.2, 1)})
    expect(vidmotion.BadZoneError, vidmotion.Config,
           zones={"door": [(0, 0), (1, 1), (0.5, 0.5)]})
    expect(vidmotion.BadZoneError, vidmotion.Config, zones_json='{"zones": [{"name": 3}]}')
    with pytest.raises(TypeError):
        vidmotion.Config(zones={"door": 42})  # type: ignore[dict-item]


def test_unknown_zone(box_clip: Path) -> None:
    res = vidmotion.scan(box_clip, zones={"a": "0,0,1,0.5"}, frames=True)
    expect(vidmotion.UnknownZoneError, res.series, 0, "nope")


def test_time_errors() -> None:
    expect(vidmotion.BadTimeError, vidmotion.parse_time, "yesterday at noon")
    expect(vidmotion.BadTimeError, vidmotion.Request, ["x.mp4"], window=("soon", None))
    from datetime import datetime
    expect(vidmotion.BadWindowError, vidmotion.Request, ["x.mp4"],
           window=(datetime(2026, 7, 4, 14, 5), 12.0))
    expect(vidmotion.BadWindowError, vidmotion.Request, ["x.mp4"], window=(20.0, 10.0))


def test_state_and_limit_errors(box_clip: Path) -> None:
    with vidmotion.Analyzer() as an:
        plane = bytes(64 * 48)
        an.push(plane, 0.0, width=64, height=48)
        expect(vidmotion.StateError, an.scan, box_clip)  # a pushed stream is open
        expect(vidmotion.InvalidArgumentError, an.push, plane, 0.0, width=64, height=48)
        an.finish()
        expect(vidmotion.StateError, an.finish)  # nothing pushed since
        expect(vidmotion.LimitError, an.push, bytes(16385), 0.0, width=16385, height=1)
    with pytest.raises(vidmotion.StateError):
        an.scan(box_clip)  # closed


def test_cancelled_carries_the_partial_result(box_clip: Path) -> None:
    seen = []

    def stop_after_30(frame: vidmotion.FrameScore) -> bool:
        seen.append(frame)
        return len(seen) >= 30

    e = expect(vidmotion.CancelledError, vidmotion.scan, box_clip, on_frame=stop_after_30)
    assert len(seen) == 30
    assert isinstance(e.result, vidmotion.Result)
    assert vidmotion.ClipFlags.CANCELLED in e.result.clips[0].flags
    assert e.result.clips[0].frames < 100


@needs("vmo_request_set_window_wall")
def test_request_errors(box_clip: Path, wall_clips: list[Path], tmp_path: Path) -> None:
    from datetime import datetime
    notime = tmp_path / "notime.mp4"
    notime.write_bytes(box_clip.read_bytes())
    window = (datetime(2026, 7, 4, 14, 0, 1), datetime(2026, 7, 4, 14, 0, 6))
    with vidmotion.Analyzer() as an:
        expect(vidmotion.NoTimeSourceError, an.run,
               vidmotion.Request([*wall_clips, notime], window=window))
        expect(vidmotion.OverlapError, an.run, vidmotion.Request([wall_clips[0]] * 2))
        expect(vidmotion.UnknownZoneError, an.run,
               vidmotion.Request(wall_clips, select="nope"))


@needs("vmo_index_check", "vmo_analyzer_index_file")
def test_index_errors(box_clip: Path, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(box_clip.read_bytes())
    assert vidmotion.check_index(clip).status == vidmotion.NotFoundError.code
    with vidmotion.Analyzer() as an:
        an.index_file(clip)
    assert vidmotion.check_index(clip).ok
    idx = Path(str(clip) + ".vmoidx")
    data = bytearray(idx.read_bytes())
    data[len(data) // 2] ^= 0xFF
    idx.write_bytes(bytes(data))
    info = vidmotion.check_index(clip)
    assert info.status == vidmotion.IndexCorruptError.code
    assert isinstance(info.exception, vidmotion.IndexCorruptError)
    with vidmotion.Analyzer() as an:
        an.index_file(clip)
    with open(clip, "ab") as f:
        f.write(b"\0" * 100)
    assert isinstance(vidmotion.check_index(clip).exception, vidmotion.IndexStaleError)


@needs("vmo_verify_manifest")
def test_manifest_errors(tmp_path: Path) -> None:
    expect(vidmotion.NotFoundError, vidmotion.verify_manifest, tmp_path / "none.json")
    bad = tmp_path / "manifest.json"
    bad.write_text("this is not json")
    expect(vidmotion.BadManifestError, vidmotion.verify_manifest, bad)


def test_missing_functions_raise_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from vidmotion import _lib
    monkeypatch.setitem(_lib.PROTOTYPES, "vmo_not_there_yet", (None, []))
    with pytest.raises(vidmotion.UnavailableError) as info:
        _lib.api.vmo_not_there_yet()
    assert isinstance(info.value, NotImplementedError)
    assert isinstance(info.value, vidmotion.UnsupportedError)
    assert not _lib.api.has("vmo_not_there_yet")


def test_errors_pickle() -> None:
    import pickle
    e = vidmotion.error_for(-4, "x.mp4: no such file", "file not found")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is vidmotion.NotFoundError and e2.message == e.message and e2.code == -4


def test_library_not_found(tmp_path: Path) -> None:
    import subprocess
    import sys
    code = ("import vidmotion\n"
            "try:\n    vidmotion.scan('x.mp4')\n"
            "except vidmotion.LibraryNotFoundError as e:\n    print('LNF', e)\n")
    env = {**os.environ, "VIDMOTION_LIBRARY": str(tmp_path / "nowhere.so")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("LNF") and "VIDMOTION_LIBRARY" in out
