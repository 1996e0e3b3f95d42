#!/usr/bin/env python3
"""Fast scan against the full scan and the ground truth, clip by clip (../shared/testdata layout).

usage: bench/fast_quality.py [--build build] [--data DIR] [--reps N] [--threads T]
                             [--json OUT] [--no-truth] [CLIP...]

For every clip with a ground-truth JSON beside it (or the CLIPs given), bench_fast times
decode-only, the full scan and the fast scan, interleaved (medians of N rounds, wall and CPU),
and scores the fast scan's events against the full scan's: recall (every full-scan event
overlapped by a fast one of the same zone) and boundary error (|start|, |end| differences of
the matched pairs, seconds). Then bench/quality.py scores both modes against the ground truth
(F1 at IoU 0.5, boundary error). Exit status 0 when every clip has recall 1.0 and boundary
errors <= 0.5 s against the full scan, and every truth case passes in both modes; 1 otherwise.
The 5x target (fast against decode-only) is reported per clip, not enforced: timings on a
shared machine are noisy (CPU times move less than wall times).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = 5.0


def media_clips(data):
    """The media files named by the truth files (bad inputs left out), sorted."""
    clips = set()
    for name in os.listdir(data):
        if not name.endswith(".json") or name.startswith("bad_"):
            continue
        with open(os.path.join(data, name)) as f:
            truth = json.load(f)
        for clip in truth.get("clips", []):
            clips.add(os.path.join(data, clip))
    return sorted(clips)


def bench_clip(bench, clip, reps, threads):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    try:
        p = subprocess.run([bench, "--reps", str(reps), "--threads", str(threads), "--json", out,
                            clip], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("bench_fast failed on %s: %s" % (clip, p.stderr.strip()))
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def quality(cli, data, extra):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    try:
        cmd = [sys.executable, os.path.join(HERE, "quality.py"), "--cli", cli, "--data", data,
               "--json", out]
        if extra:
            cmd += ["--"] + extra
        subprocess.run(cmd, capture_output=True, text=True)
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def clip_row(doc):
    runs, g = doc["runs"], doc["agreement"]
    med = lambda mode, kind: runs[mode][kind]["median"]
    row = {
        "clip": os.path.basename(doc["clip"]), "frames": doc["frames"],
        "decode_s": med("decode", "wall_s"), "scan_s": med("scan", "wall_s"),
        "fast_s": med("fast", "wall_s"),
        "vs_decode_wall": med("decode", "wall_s") / med("fast", "wall_s"),
        "vs_decode_cpu": med("decode", "cpu_s") / med("fast", "cpu_s"),
        "vs_scan_wall": med("scan", "wall_s") / med("fast", "wall_s"),
        "recall": g["recall"], "full_events": g["full_events"], "extra": g["extra"],
        "start_mean": g["start_error_mean_s"], "start_max": g["start_error_max_s"],
        "end_mean": g["end_error_mean_s"], "end_max": g["end_error_max_s"],
    }
    row["accurate"] = row["recall"] >= 1.0 and max(row["start_max"], row["end_max"]) <= 0.5
    row["target"] = row["vs_decode_cpu"] >= TARGET and row["accurate"]
    return row


def print_clips(rows):
    print("%-28s %5s %8s %8s %8s %7s %7s %7s  %6s %11s %11s  %s" % (
        "clip", "frames", "decode", "scan", "fast", "x dec", "x cpu", "x scan", "recall",
        "start err", "end err", "5x"))
    for r in rows:
        print("%-28s %5d %7.3fs %7.3fs %7.3fs %6.2fx %6.2fx %6.2fx  %6.3f %5.2f/%5.2f %5.2f/%5.2f"
              "  %s" % (r["clip"], r["frames"], r["decode_s"], r["scan_s"], r["fast_s"],
                        r["vs_decode_wall"], r["vs_decode_cpu"], r["vs_scan_wall"], r["recall"],
                        r["start_mean"], r["start_max"], r["end_mean"], r["end_max"],
                        "yes" if r["target"] else "no"))
    print("(x dec, x cpu: decode-only time over fast-scan time, wall and CPU; errors: mean/max "
          "seconds against the full scan)")


def print_truth(full, fast):
    print("\n%-34s %-28s %-28s" % ("truth case", "full scan F1 / boundary", "fast scan F1 / boundary"))
    fast_cases = {c["case"]: c for c in fast["cases"]}
    for c in full["cases"]:
        f = fast_cases.get(c["case"], {})
        cell = lambda x: "%.3f / %s%s" % (x.get("f1") or 0, "%.3f s" % x["boundary_mean_s"]
                                          if x.get("boundary_mean_s") is not None else "  -    ",
                                          "" if x.get("pass") else " FAIL")
        print("%-34s %-28s %-28s" % (c["case"], cell(c), cell(f) if f else "missing"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "testdata"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--no-truth", action="store_true", help="skip the ground-truth scores")
    ap.add_argument("clips", nargs="*")
    a = ap.parse_args()
    bench = os.path.join(a.build, "bench", "bench_fast")
    cli = os.path.join(a.build, "examples", "vidmotion")
    probe = subprocess.run([bench, "--probe"], capture_output=True)
    if probe.returncode != 0:
        print("fast_quality: the library has no fast mode (bench_fast --probe)")
        return 1
    rows = []
    for clip in a.clips or media_clips(a.data):
        rows.append(clip_row(bench_clip(bench, clip, a.reps, a.threads)))
        print("  %s done" % rows[-1]["clip"], file=sys.stderr)
    print_clips(rows)
    ok = all(r["accurate"] for r in rows)
    doc = {"clips": rows, "threads": a.threads, "reps": a.reps}
    if not a.no_truth:
        full, fast = quality(cli, a.data, []), quality(cli, a.data, ["--set", "fast=1"])
        print_truth(full, fast)
        doc["truth"] = {"full": full, "fast": fast}
        ok &= full["pass"] and fast["pass"]
    doc["pass"] = ok
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2)
    print("ALL PASS" if ok else "SOME FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
