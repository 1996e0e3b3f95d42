"""Requests over many clips with wall-clock windows (datetime), request zones and options,
the motion index, export and verification: each as it lands in C."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import vidmotion

from conftest import needs
from test_cli_parity import cli_json, compare

UTC = timezone.utc
T0 = datetime(2026, 7, 4, 14, 0, 0, tzinfo=UTC)


@needs("vmo_request_set_window_wall")
def test_wall_clock_window_matches_the_cli(cli: str, wall_clips: list[Path]) -> None:
    j = cli_json(cli, ["--from", "2026-07-04T14:00:02Z", "--to", "2026-07-04T14:00:07Z",
                       *map(str, wall_clips)])
    res = vidmotion.scan(wall_clips, frames=True,
                         window=(T0 + timedelta(seconds=2), datetime(2026, 7, 4, 14, 0, 7)))
    compare(res, j)
    assert res.segments and all(T0 + timedelta(seconds=2) <= s.wall_start for s in res.segments)
    first = res.segments[0]
    assert first.clipped and first.whole_start < first.start  # the box started at 1 s


@needs("vmo_request_set_window_wall")
def test_clips_outside_the_window_are_not_decoded(wall_clips: list[Path]) -> None:
    rq = vidmotion.Request(window=(T0 + timedelta(seconds=5), None))
    for p in wall_clips:
        rq.add(p)
    with vidmotion.Analyzer() as an:
        res = an.run(rq)
    assert vidmotion.ClipFlags.SKIPPED in res.clips[0].flags
    assert res.clips[0].frames == 0 and res.clips[1].frames > 0
    assert [s.clip for s in res.segments] == [str(wall_clips[1])]


@needs("vmo_request_set_window_clip")
def test_relative_window_and_wall_start_override(box_clip: Path) -> None:
    start = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    rq = vidmotion.Request(window=(2.0, timedelta(seconds=3.5))).add(box_clip, start)
    with vidmotion.Analyzer() as an:
        res = an.run(rq)
    assert res.clips[0].wall_source == "caller" and res.clips[0].wall_start == start
    seg = res.segments[0]
    assert 2.0 <= seg.start and seg.end <= 3.5 and seg.clipped
    assert seg.wall_start == start + timedelta(seconds=seg.start)


@needs("vmo_request_add_zone", "vmo_request_select_zone", "vmo_request_set_double")
def test_request_zones_selection_and_options(box_clip: Path) -> None:
    rq = vidmotion.Request([box_clip], zones={"band": "0,0.1,1,0.35", "low": (0, 0.5, 1, 1)},
                           select="band", sensitivity=2.0, min_length=0.1)
    live = []
    with vidmotion.Analyzer(zones={"other": "0,0,1,1"},
                            on_event=lambda what, seg: live.append(seg.zone)) as an:
        res = an.run(rq)
    assert live == ["band", "band"]
    assert res.zones == ["band"]
    assert [s.zone for s in res.segments] == ["band"]
    with pytest.raises(vidmotion.InvalidArgumentError):
        with vidmotion.Analyzer() as an:
            an.run(vidmotion.Request([box_clip], sensitivity=-1))


@needs("vmo_analyzer_index_file", "vmo_index_check")
def test_index_then_answer_from_it(box_clip: Path, tmp_path: Path) -> None:
    clip = tmp_path / "cam1_20260704T140000Z.mp4"
    shutil.copy(box_clip, clip)
    with vidmotion.Analyzer() as an:
        scanned = an.index_file(clip)
        info = vidmotion.check_index(clip)
        assert info.ok and info.frames == 100 and info.index_size > 0
        assert (info.grid_width, info.grid_height) == (32, 18)
        assert scanned.clips[0].wall_start == T0  # from the file name
        res = an.run(vidmotion.Request([clip], use_index=True))
    assert vidmotion.ClipFlags.INDEXED in res.clips[0].flags
    assert [(round(s.start, 3), round(s.end, 3)) for s in res.segments] == \
        [(round(s.start, 3), round(s.end, 3)) for s in scanned.segments]


@needs("vmo_export_run", "vmo_verify_manifest")
def test_export_and_verify(box_clip: Path, tmp_path: Path) -> None:
    res = vidmotion.scan(box_clip)
    out = tmp_path / "out"
    out.mkdir()
    report = vidmotion.export(res, out, case="case-42")
    assert len(report.outputs) == len(res.segments) == 1
    o = report.outputs[0]
    assert Path(o.path).is_file() and Path(o.path).stat().st_size == o.size
    assert len(o.sha256) == 64 and o.duration > 0 and not o.reencoded
    assert report.manifest and Path(report.manifest).is_file()
    lines = vidmotion.verify_manifest(report.manifest)
    assert lines and all(ln.startswith("ok ") for ln in lines)
    with pytest.raises(vidmotion.ExistsError):
        vidmotion.export(res, out)
    with open(o.path, "r+b") as f:
        f.seek(o.size // 2)
        b = f.read(1)
        f.seek(o.size // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(vidmotion.MismatchError) as info:
        vidmotion.verify_manifest(report.manifest)
    assert any("MISMATCH" in ln for ln in info.value.report)  # type: ignore[attr-defined]
