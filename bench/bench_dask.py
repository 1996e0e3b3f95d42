#!/usr/bin/env python3
"""Scaling of vidmotion.distributed: one request over a synthesized archive on a Dask
LocalCluster of 1 and then 2 worker processes, against one process doing the same work.

usage: bench/bench_dask.py [--library LIB] [--clips 200] [--cameras 4]
                           [--seconds 4] [--workers 1,2] [--reps 2] [--cache DIR]
                           [--json OUT]

The archive: CLIPS consecutive clips of SECONDS each (640x360, 25 fps, H.264, GOP 2 s, a box
crossing a noisy still scene now and then), spread over CAMERAS cameras, named
camN_YYYYMMDDTHHMMSSZ.mp4 (their wall clock). It is encoded once into the cache folder
($VMO_BENCH_CACHE, else ~/.cache/vidmotion-bench/dask) as one long clip cut at keyframes.

Every worker process has one Dask thread and analyses one clip at a time on one core (the
options jobs=1, threads=1, pipeline=0), so the ratio measures how the work spreads over
processes. The baseline is one process scanning each camera with one request under the
same options (the same library calls, without Dask). The configurations run in rounds, in
rotating order, so that a busy neighbour slows them alike; medians over REPS rounds:

  throughput         clips / wall time of the whole distributed.request() call
  ratio              throughput with 2 workers / throughput with 1
  work per clip      time inside the library's requests (summed over tasks) / clips
  overhead per clip  (wall time - work / worker threads) / clips: what distribution costs on
                     top of the work spread perfectly over the workers (probing the clip
                     headers, scheduling, shipping and merging results, idle threads at the
                     end), per clip; RunStats.overhead_per_clip
  CPU per clip       CPU seconds of the workers and of this process ("driver": it holds the
                     scheduler and the client) / clips; minus the one-process figure, the CPU that
                     Dask and the probe cost per clip: unlike wall times, it hardly moves
                     when neighbours load the machine

Every distributed answer is checked against the baseline's (the JSON of each camera's
result): the bench fails if one differs. The ratio cannot exceed the number of CPUs this
process may use (printed), and neighbours' load (the load average before and after is
recorded) lowers it.
"""
import argparse
import importlib.util
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BINDING = os.path.join(ROOT, "bindings", "python")

OPTIONS = {"jobs": 1, "threads": 1, "pipeline": False}
ZONES = {"left": "0,0,0.5,1", "right": "0.5,0,1,1"}
START = datetime(2026, 7, 4, 14, 0, 0, tzinfo=timezone.utc)


def find_library():
    for d in ("build-bench", "build-rel", "build"):
        p = os.path.join(ROOT, d, "lib", "libvidmotion.so.0")
        if os.path.exists(p):
            return p
    return None


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def make_archive(cache, clips, cameras, seconds):
    """CLIPS clip paths, camera after camera, made once: one long clip per camera timeline
    (cut at its keyframes: every clip starts with one), copied under each camera's names."""
    per_cam = -(-clips // cameras)
    folder = os.path.join(cache, f"archive2_{clips}x{seconds}s_{cameras}cam")
    done = os.path.join(folder, ".complete")
    names = [[f"cam{c}_{(START + timedelta(seconds=k * seconds)):%Y%m%dT%H%M%SZ}.mp4"
              for k in range(per_cam)] for c in range(cameras)]
    paths = [os.path.join(folder, n) for c in range(cameras) for n in names[c]][:clips]
    if os.path.exists(done):
        return paths
    os.makedirs(folder, exist_ok=True)
    total = per_cam * seconds
    # A box that crosses the frame for 3 s every 11 s, still in between.
    x = "'if(lt(mod(t,11),5),40,if(lt(mod(t,11),8),40+(mod(t,11)-5)*170,550))'"
    long_clip = os.path.join(folder, "timeline.mp4")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"color=c=0x707070:s=640x360:r=25:d={total},noise=alls=8:allf=t",
         "-f", "lavfi", "-i", f"color=c=white:s=48x48:r=25:d={total}",
         "-filter_complex", f"[0][1]overlay=x={x}:y=160",
         "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-keyint_min", "50",
         "-sc_threshold", "0", "-pix_fmt", "yuv420p", long_clip], check=True)
    pattern = os.path.join(folder, "part%05d.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", long_clip, "-c", "copy",
                    "-f", "segment", "-segment_time", str(seconds), "-reset_timestamps", "1",
                    pattern], check=True)
    for c in range(cameras):
        for k, name in enumerate(names[c]):
            src = pattern % k
            with open(src, "rb") as f, open(os.path.join(folder, name), "wb") as g:
                g.write(f.read())  # a copy: one camera's file is never another's inode
    for k in range(per_cam):
        os.remove(pattern % k)
    os.remove(long_clip)
    open(done, "w").close()
    return paths


def by_camera(paths):
    from vidmotion.distributed import default_camera
    cams = {}
    for p in paths:
        cams.setdefault(default_camera(p), []).append(p)
    return cams


def single_process(paths):
    """One process, one request per camera, the workers' options: the answers (JSON per
    camera) and the measure (wall seconds, CPU seconds)."""
    import vidmotion
    answers = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for cam, ps in by_camera(paths).items():
        with vidmotion.Analyzer(zones=ZONES, **OPTIONS) as an:
            answers[cam] = an.run(vidmotion.Request(ps)).to_json()
    return answers, {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}


def _cpu():
    return time.process_time()


class Cluster:
    """A LocalCluster of WORKERS processes of one thread, warmed up (workers started, the
    package imported and the library loaded)."""

    def __init__(self, workers, paths):
        from distributed import Client, LocalCluster
        from vidmotion import distributed as vd
        self.vd = vd
        self.workers = workers
        self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                    dashboard_address=":0", silence_logs=logging.CRITICAL)
        self.client = Client(self.cluster)
        self.client.wait_for_workers(workers)
        self.request(paths[:workers * 2])

    def request(self, paths):
        return self.vd.request(self.client, paths, None, ZONES, use_index=False, **OPTIONS)

    def measure(self, paths, want):
        """One timed request, after checking its answer: its RunStats and CPU seconds (this
        process, which holds the scheduler and the client; the workers)."""
        w0, c0 = self.client.run(_cpu), time.process_time()
        ans = self.request(paths)
        w1, c1 = self.client.run(_cpu), time.process_time()
        got = {cam: r.to_json() for cam, r in ans.items()}
        if got != want:
            bad = [c for c in want if got.get(c) != want[c]]
            raise SystemExit(f"bench_dask: the answer with {self.workers} workers differs "
                             f"from one process's for {bad}")
        return ans.stats, (c1 - c0, sum(w1[k] - w0.get(k, 0.0) for k in w1))

    def close(self):
        self.client.close()
        self.cluster.close()


def rounds(paths, counts, reps, want, single0):
    """REPS rounds, each running every configuration once, in rotating order (a busy
    neighbour then slows them all alike): {workers: [(seconds, (driver CPU, workers' CPU),
    RunStats or None)]}; workers 0 is one process without Dask (its CPU is a worker's).
    One cluster at a time (started and warmed up outside the measure), so that this
    process's CPU is that of one scheduler and one client."""
    runs = {0: [(single0["seconds"], (0.0, single0["cpu"]), None)],
            **{w: [] for w in counts}}
    order = [0, *counts]
    for r in range(reps):
        for w in order[r % len(order):] + order[:r % len(order)]:
            if w == 0:
                if r > 0:
                    m = single_process(paths)[1]
                    runs[0].append((m["seconds"], (0.0, m["cpu"]), None))
                continue
            cluster = Cluster(w, paths)
            try:
                stats, cpu = cluster.measure(paths, want)
            finally:
                cluster.close()
            runs[w].append((stats.seconds, cpu, stats))
            print(f"  round {r + 1}: {w} worker(s) {stats.seconds:.1f} s", flush=True)
    return runs


def row(name, workers, runs, clips):
    secs = [s for s, _, _ in runs]
    med = statistics.median(secs)
    cpu = statistics.median(sum(c) for _, c, _ in runs)
    driver = statistics.median(c[0] for _, c, _ in runs)
    stats = [st for _, _, st in runs if st is not None]
    out = {"config": name, "workers": workers, "seconds": secs, "median_seconds": med,
           "throughput": clips / med, "cpu_per_clip": cpu / clips,
           "driver_cpu_per_clip": driver / clips,
           "work_per_clip": med / clips, "overhead_per_clip": None, "probe_seconds": None}
    if stats:
        out.update(
            work_per_clip=statistics.median(st.work_seconds for st in stats) / clips,
            overhead_per_clip=statistics.median(st.overhead_per_clip for st in stats),
            probe_seconds=statistics.median(st.probe_seconds for st in stats),
            runs=stats[0].runs)
    return out


def ms(v):
    return "-" if v is None else f"{v * 1e3:.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", default=os.environ.get("VIDMOTION_LIBRARY") or find_library())
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=4, help="length of each clip")
    ap.add_argument("--workers", default="1,2", help="worker process counts")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--cache", default=os.path.join(
        os.environ.get("VMO_BENCH_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
            "vidmotion-bench"), "dask"))
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    if not a.library or not os.path.exists(a.library):
        sys.exit("bench_dask: no libvidmotion.so.0 (build one, or pass --library)")
    os.environ["VIDMOTION_LIBRARY"] = os.path.abspath(a.library)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (BINDING, os.environ.get("PYTHONPATH")) if p)
    sys.path.insert(0, BINDING)
    if importlib.util.find_spec("distributed") is None:
        sys.exit("bench_dask: needs Dask (Debian: apt-get install python3-distributed)")
    import vidmotion

    print(f"archive: {a.clips} clips of {a.seconds} s over {a.cameras} cameras ...",
          flush=True)
    paths = make_archive(a.cache, a.clips, a.cameras, a.seconds)
    cpus = len(os.sched_getaffinity(0))
    load_before = load_average()
    counts = [int(x) for x in a.workers.split(",") if x]
    want, single0 = single_process(paths)
    runs = rounds(paths, counts, a.reps, want, single0)
    load_after = load_average()

    rows = [row("1 process, no Dask", 0, runs[0], a.clips)]
    rows += [row(f"{w} worker process{'es' if w > 1 else ''}", w, runs[w], a.clips)
             for w in counts]
    by = {r["workers"]: r for r in rows}
    ratio = by[2]["throughput"] / by[1]["throughput"] if 1 in by and 2 in by else None
    cpu_overhead = {w: by[w]["cpu_per_clip"] - by[0]["cpu_per_clip"] for w in counts}
    print(f"\nvidmotion.distributed on a LocalCluster, {a.clips} clips of {a.seconds} s "
          f"(640x360, 25 fps), {a.cameras} cameras, libvidmotion "
          f"{vidmotion.library_version()}, {cpus} CPUs, load {load_before:.2f} -> "
          f"{load_after:.2f}, medians of {a.reps}")
    print(f"{'configuration':<22} {'wall s':>8} {'clips/s':>8} {'work/clip':>10} "
          f"{'overhead/clip':>14} {'CPU/clip':>10} {'driver':>9} {'probe s':>8}")
    for r in rows:
        pr = "-" if r["probe_seconds"] is None else f"{r['probe_seconds']:.2f}"
        print(f"{r['config']:<22} {r['median_seconds']:8.2f} {r['throughput']:8.2f} "
              f"{ms(r['work_per_clip']):>10} {ms(r['overhead_per_clip']):>14} "
              f"{ms(r['cpu_per_clip']):>10} {ms(r['driver_cpu_per_clip']):>9} {pr:>8}")
    if ratio is not None:
        print(f"throughput ratio, 2 workers / 1 worker: {ratio:.2f}x "
              f"(at most {min(2, cpus)}x on {cpus} CPUs)")
    for w, v in cpu_overhead.items():
        print(f"CPU spent by Dask per clip with {w} worker(s) (workers, scheduler and driver, "
              f"minus one process's): {ms(v)}")
    print("every distributed answer equals the one-process answer")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"clips": a.clips, "cameras": a.cameras, "clip_seconds": a.seconds,
                       "cpus": cpus, "library": vidmotion.library_version(),
                       "load_before": load_before, "load_after": load_after,
                       "options": OPTIONS, "reps": a.reps, "rows": rows,
                       "ratio_2_vs_1": ratio,
                       "cpu_overhead_per_clip": {str(k): v for k, v in cpu_overhead.items()},
                       "identical": True}, f, indent=2)


if __name__ == "__main__":
    main()
