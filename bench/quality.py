#!/usr/bin/env python3
"""Detection quality of the vidmotion CLI against ground truth (../shared/testdata layout).

usage: bench/quality.py [--cli build/examples/vidmotion] [--data DIR] [--json OUT] [-- EXTRA...]

For every clip with a ground-truth JSON beside it, runs `vidmotion scan --json` (with the
truth's zones where it has some), scores the output with the data folder's score.py
(precision, recall, F1 at IoU 0.5, boundary error) and prints one line per case plus the
totals. EXTRA arguments go to every scan (e.g. --set start_level=0.001). Exit status 0 when
every case passes F1 >= 0.95 and mean boundary error <= 0.5 s, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def score(data, truth, pred_text, extra):
    pred = os.path.join(os.environ.get("TMPDIR", "/tmp"), "vmo_quality_pred.json")
    with open(pred, "w") as f:
        f.write(pred_text)
    rc, out, err = run([sys.executable, os.path.join(data, "score.py"), truth, pred,
                        "--json"] + extra)
    if rc == 2:
        raise RuntimeError("score.py failed on %s: %s" % (truth, err.strip()))
    return json.loads(out)


def cases(data):
    """(name, clips, truth file, scan args, score args)"""
    out = []
    for name in sorted(os.listdir(data)):
        if not name.endswith(".json") or name.startswith("bad_"):
            continue
        truth = json.load(open(os.path.join(data, name)))
        case = truth.get("case")
        clips = [os.path.join(data, c) for c in truth.get("clips", [])]
        if case == "wallclock-request":
            req = truth["request"]
            out.append((name, clips, name, ["--from", req["from"], "--to", req["to"]], []))
            continue
        zones = truth.get("zones") or []
        if zones:
            zargs = []
            for z in zones:
                zargs += ["--zone", z["cli"]]
            out.append((name + " [zones]", clips, name, zargs, []))
            out.append((name + " [frame]", clips, name, [], ["--zone", "frame"]))
        else:
            out.append((name, clips, name, [], []))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "examples", "vidmotion"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "testdata"))
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--min-f1", type=float, default=0.95)
    ap.add_argument("--max-boundary", type=float, default=0.5)
    ap.add_argument("extra", nargs="*", help="extra scan arguments (after --)")
    a = ap.parse_args()
    rows, ok_all = [], True
    for name, clips, truth, scan_args, score_args in cases(a.data):
        rc, out, err = run([a.cli, "scan", "--json", "-q"] + scan_args + a.extra + clips)
        if rc not in (0, 1):
            print("%-44s scan failed (exit %d): %s" % (name, rc, err.strip()))
            ok_all = False
            continue
        s = score(a.data, os.path.join(a.data, truth), out, score_args)
        t = s
        f1, bmean = t.get("f1"), t.get("boundary_mean_s")
        ok = f1 is not None and f1 >= a.min_f1 and (bmean is None or bmean <= a.max_boundary)
        ok_all &= ok
        rows.append({"case": name, "f1": f1, "precision": t.get("precision"),
                     "recall": t.get("recall"), "boundary_mean_s": bmean,
                     "tp": t.get("tp"), "fp": t.get("fp"), "fn": t.get("fn"), "pass": ok})
        print("%-44s P %.3f R %.3f F1 %.3f  boundary %s  tp %s fp %s fn %s  %s" % (
            name, t.get("precision", 0), t.get("recall", 0), f1 or 0,
            "%.3f s" % bmean if bmean is not None else "  -    ", t.get("tp"), t.get("fp"),
            t.get("fn"), "PASS" if ok else "FAIL"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cases": rows, "pass": ok_all}, f, indent=2)
    print("ALL PASS" if ok_all else "SOME FAIL")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
