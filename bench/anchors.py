#!/usr/bin/env python3
"""Anchors: vidmotion's scan against `ffmpeg -threads 1 -i CLIP -an -f null -` and against a
typical OpenCV motion pipeline, on the same clip, runs interleaved.

usage: bench/anchors.py [--cli build-bench/examples/vidmotion] [--reps N] [--json OUT] CLIP

Every round runs, in rotating order:
  ffmpeg     ffmpeg -nostdin -v error -threads 1 -i CLIP -an -f null -   (decode only)
  vidmotion  vidmotion scan --set threads=1 CLIP     (full scan, defaults: one decoder
             thread, and the library's "pipeline" thread that decodes while the caller's
             thread prepares and scores, so two threads in all)
  vidmotion-serial  the same with --set pipeline=0: everything on one thread (skipped when
             the library has no "pipeline" option)
  opencv     cv2.VideoCapture (FFmpeg backend) and, per frame, cvtColor to gray, resize to
             320x180 (INTER_AREA), absdiff with the previous frame, threshold, countNonZero:
             the pipeline of the project's issue 8; cv2.setNumThreads(1), and the process
             pinned to one CPU (OpenCV 4.6 cannot set its decoder's thread count)
  opencv-decode  the same capture loop without the processing (what OpenCV's decoding with
             its BGR conversion costs alone)
Each runs in its own process; wall time and that process's CPU time (user + sys, from
wait4) are taken. The OpenCV runs are skipped, with a message, when python3-opencv is not
installed (Debian: apt-get install python3-opencv). The ratios printed are of medians over
the rounds, wall and CPU.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def opencv_worker(clip, process):
    """Runs in a child: the OpenCV loop over every frame, on one core."""
    # OpenCV 4.6 (Debian 12) has no CAP_PROP_N_THREADS: its FFmpeg backend starts decoder
    # threads of its own. Pinned to one CPU, they share one core like the other runs' one
    # thread.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import cv2
    cv2.setNumThreads(1)
    params = []
    if hasattr(cv2, "CAP_PROP_N_THREADS"):
        params = [cv2.CAP_PROP_N_THREADS, 1]
    cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        print("opencv: cannot open %s" % clip, file=sys.stderr)
        return 1
    prev, frames, changed = None, 0, 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames += 1
        if not process:
            continue
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(gray, (320, 180), interpolation=cv2.INTER_AREA)
        if prev is not None:
            diff = cv2.absdiff(small, prev)
            _, mask = cv2.threshold(diff, 4, 255, cv2.THRESH_BINARY)
            changed += cv2.countNonZero(mask)
        prev = small
    print(json.dumps({"frames": frames, "changed": changed}))
    return 0


def have_opencv():
    try:
        import cv2  # noqa: F401
        return True
    except ImportError:
        return False


def run(cmd, ok_codes=(0,)):
    """(wall s, cpu s) of one child, reaped with wait4 for its own rusage."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in ok_codes:
        raise RuntimeError("%s exited with %d" % (" ".join(cmd), code))
    return wall, ru.ru_utime + ru.ru_stime


def has_option(cli, name):
    """Whether `vidmotion --options` lists the library option `name`."""
    try:
        out = subprocess.run([cli, "--options"], capture_output=True, text=True).stdout
    except OSError:
        return False
    return any(line.split()[:1] == [name] for line in out.splitlines())


def commands(a):
    cmds = {
        "ffmpeg": (["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", a.clip, "-an",
                    "-f", "null", "-"], (0,)),
        # 0: motion found, 1: no motion; both are successful scans.
        "vidmotion": ([a.cli, "scan", "--set", "threads=1", a.clip], (0, 1)),
    }
    if has_option(a.cli, "pipeline"):
        cmds["vidmotion-serial"] = ([a.cli, "scan", "--set", "threads=1", "--set", "pipeline=0",
                                     a.clip], (0, 1))
    if have_opencv():
        me = os.path.abspath(__file__)
        cmds["opencv"] = ([sys.executable, me, "--opencv-worker", a.clip], (0,))
        cmds["opencv-decode"] = ([sys.executable, me, "--opencv-decode-worker", a.clip], (0,))
    return cmds


def summarize(v):
    return {"median": round(statistics.median(v), 4), "min": round(min(v), 4),
            "max": round(max(v), 4), "n": len(v)}


def ratio(res, a, b, key):
    if a not in res or b not in res:
        return None
    return round(res[a][key]["median"] / res[b][key]["median"], 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build-bench", "examples", "vidmotion"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--opencv-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--opencv-decode-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("clip")
    a = ap.parse_args()
    if a.opencv_worker or a.opencv_decode_worker:
        return opencv_worker(a.clip, a.opencv_worker)
    cmds = commands(a)
    names = list(cmds)
    samples = {n: {"wall": [], "cpu": []} for n in names}
    for r in range(a.reps):
        for k in range(len(names)):
            n = names[(r + k) % len(names)]
            wall, cpu = run(*cmds[n])
            samples[n]["wall"].append(wall)
            samples[n]["cpu"].append(cpu)
        print("  anchors round %d/%d done (load %.2f)" % (r + 1, a.reps, os.getloadavg()[0]),
              file=sys.stderr)
    res = {n: {"wall_s": summarize(s["wall"]), "cpu_s": summarize(s["cpu"])}
           for n, s in samples.items()}
    print("anchors on %s (%d interleaved rounds, 1 decoder thread each)" % (a.clip, a.reps))
    print("  %-14s %9s %17s %9s" % ("run", "wall s", "[min-max]", "cpu s"))
    for n in names:
        w, c = res[n]["wall_s"], res[n]["cpu_s"]
        print("  %-14s %9.3f [%6.3f-%6.3f] %9.3f" % (n, w["median"], w["min"], w["max"],
                                                     c["median"]))
    ratios = {}
    for num, den in (("vidmotion", "ffmpeg"), ("vidmotion-serial", "ffmpeg"),
                     ("opencv", "ffmpeg"), ("opencv-decode", "ffmpeg"), ("vidmotion", "opencv"),
                     ("vidmotion-serial", "opencv")):
        rw, rc = ratio(res, num, den, "wall_s"), ratio(res, num, den, "cpu_s")
        if rw is not None:
            ratios["%s/%s" % (num, den)] = {"wall": rw, "cpu": rc}
            print("  %-26s wall %.3f  cpu %.3f" % ("%s / %s" % (num, den), rw, rc))
    if "opencv" not in cmds:
        print("  opencv: skipped (python3-opencv is not installed)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"benchmark": "anchors", "clip": a.clip, "reps": a.reps,
                       "opencv": "opencv" in cmds, "runs": res, "ratios": ratios}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
