#!/usr/bin/env python3
"""Gathers the benches' JSON files into one report and prints the summary table.

usage: bench/report.py --out bench/results/DATE.json [--meta KEY=VALUE]... PART=FILE...

PART is kernels, pipeline, pipeline_nob, memory, archive, fast, anchors or quality. Missing
or unreadable parts are reported as such. The table gives, per target of the project's
issue 8, the measured median and whether the target is met on this run.
"""
import argparse
import json
import os
import subprocess
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"missing": True, "reason": str(e)}


def probe(clip):
    """What the clip is: ffprobe's size, rate, frames, bit rate, B-frames."""
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
             "stream=codec_name,profile,width,height,avg_frame_rate,nb_frames,has_b_frames,"
             "bit_rate:format=duration,size", "-of", "json", clip],
            capture_output=True, text=True, check=True).stdout
        d = json.loads(out)
        s, f = d["streams"][0], d["format"]
        return {"path": clip, "codec": s.get("codec_name"), "profile": s.get("profile"),
                "width": s.get("width"), "height": s.get("height"),
                "fps": s.get("avg_frame_rate"), "frames": int(s.get("nb_frames", 0)),
                "b_frames": int(s.get("has_b_frames", 0)) > 0,
                "bit_rate": int(s.get("bit_rate", 0)), "duration": float(f["duration"]),
                "size": int(f["size"])}
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError, IndexError):
        return {"path": clip, "probe": "failed"}


def verdict(ok):
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")


def kernel_rows(k):
    """(size, avx2 x memcpy, avx2 x c) for diff_row."""
    rows = []
    for s in k.get("sizes", []):
        v = s["variants"]
        best = v.get("avx2") or v.get("sse2") or v.get("neon")
        if best:
            rows.append(("%dx%d" % (s["width"], s["height"]), best["median_gbps"],
                         best["ratio_memcpy"], best["ratio_scalar"]))
    return rows


def find_run(pipe, mode, threads):
    for c in pipe.get("clips", []):
        for r in c["runs"]:
            if r["mode"] == mode and r["threads"] == threads:
                return r
    return None


def print_kernels(k, exit_code):
    rows = kernel_rows(k)
    if not rows:
        print("1. Kernels: missing (%s)" % k.get("reason", "no data"))
        return
    # bench_kernels exits non-zero when a variant differs from the C reference.
    ok = all(r[2] >= 0.8 for r in rows) and exit_code == "0"
    print("1. Kernels (diff_row, best ISA)        target: >= 0.8x memcpy, bit-identical   %s"
          % verdict(ok))
    for size, gbps, xm, xc in rows:
        print("   %-10s %7.2f GB/s  %5.2fx memcpy  %5.2fx scalar" % (size, gbps, xm, xc))


def print_pipeline(p, label):
    if p.get("missing"):
        print("   %s: missing (%s)" % (label, p.get("reason")))
        return
    for threads in (1, 0):
        dec, scan = find_run(p, "decode", threads), find_run(p, "scan", threads)
        if not dec or not scan:
            continue
        rw, rc = scan["ratio_to_decode_wall"], scan["ratio_to_decode_cpu"]
        print("   %-9s threads=%d  decode %6.1f fps  scan %6.1f fps  scan/decode wall %.3f "
              "[%.3f-%.3f] (of minima %.3f)  cpu %.3f"
              % (label, threads, dec["fps_median"], scan["fps_median"], rw["median"], rw["min"],
                 rw["max"], scan.get("ratio_of_minima_wall", float("nan")), rc["median"]))
    for mode in ("scan-serial", "pipe", "pipe-prep"):
        for threads in (1, 0):
            r = find_run(p, mode, threads)
            if r:
                print("   %-9s threads=%d  %-11s %6.1f fps  x decode wall %.3f  cpu %.3f"
                      % (label, threads, mode, r["fps_median"],
                         r["ratio_to_decode_wall"]["median"],
                         r["ratio_to_decode_cpu"]["median"]))
    for c in p.get("clips", []):
        for s in c.get("split", []):
            print("   %-9s threads=%d  ms/frame: decode %.3f  prepare %.3f  score+events %.3f"
                  % (label, s["threads"], s["decode_ms_per_frame"]["median"],
                     s["prepare_ms_per_frame"]["median"],
                     s["score_events_ms_per_frame"]["median"]))


def print_memory(m):
    if m.get("missing"):
        print("4. Memory: missing (%s)" % m.get("reason"))
        return
    v = m["verdicts"]
    print("4. Memory (peak RSS, scan / ffmpeg -f null)   target: <= 1.0              %s"
          % verdict(v["target_met_t1"] and v["target_met_auto"]))
    for r in m["runs"]:
        print("   %-32s %8.1f MB  anon %7.1f MB" % (r["command"], r["maxrss_mb"],
                                                   r["anon_peak_mb"]))
    print("   scan/ffmpeg RSS %.3f (1 thread) %.3f (auto); long/short clip %.3f / %.3f"
          % (v["scan_over_ffmpeg_rss_t1"], v["scan_over_ffmpeg_rss_auto"],
             v["long_over_short_rss_t1"], v["long_over_short_rss_t0"]))


def print_archive(a):
    if a.get("missing"):
        print("5. Archive: missing (%s)" % a.get("reason"))
        return
    ar = a["archive"]
    s = ar["scaling_jobs2_over_jobs1_threads1"]
    print("5. Archive (%d clips), jobs=2 / %s   target: >= 1.8x   %s"
          % (ar["clips"], ar.get("scaling_baseline", "jobs=1 threads=1"),
             verdict(ar["target_met"])))
    for st in ar["settings"]:
        print("   %-28s %7.1f frames/s  wall %.2f s  cpu %.2f s"
              % (st["setting"], st["fps_median"], st["wall_s"]["median"],
                 st["cpu_s"]["median"]))
    print("   scaling %.3f [%.3f-%.3f]" % (s["median"], s["min"], s["max"]))
    iq = a.get("index_query", {})
    if iq.get("skipped"):
        print("6. Index query: skipped: %s" % iq.get("reason"))
    else:
        print("6. Index query over %.0f h (%d clips): %.3f s [%.3f-%.3f]; one hour: %s"
              % (iq["hours"], iq["clips"], iq["day_wall_s"]["median"], iq["day_wall_s"]["min"],
                 iq["day_wall_s"]["max"],
                 "%.3f s" % iq["hour_wall_s"]["median"] if iq.get("hour_wall_s") else "n/a"))


def print_fast(f):
    if f.get("skipped") or f.get("missing"):
        print("3. Fast modes: skipped: %s" % f.get("reason"))
        return
    g = f["agreement"]
    print("3. Fast scan: %.2fx faster than decoding, recall %.3f, boundary max %.3f/%.3f s   %s"
          % (f["speedup_over_decode"], g["recall"], g["start_error_max_s"],
             g["end_error_max_s"], verdict(f["target_met"])))


def print_anchors(a):
    if a.get("missing"):
        print("7. Anchors: missing (%s)" % a.get("reason"))
        return
    print("7. Anchors (1 decoder thread each, same clip)")
    for k, v in a["ratios"].items():
        print("   %-26s wall %.3f  cpu %.3f" % (k, v["wall"], v["cpu"]))
    if not a.get("opencv"):
        print("   opencv: skipped (python3-opencv not installed)")


def print_table(doc):
    m = doc.get("machine", {})
    print("\n==== vidmotion bench %s: %s, %s CPUs, %s; load %s -> %s ====" % (
        doc["date"], m.get("cpu_model"), m.get("online_cpus"), m.get("cpu_flags"),
        doc["meta"].get("load_before"), doc["meta"].get("load_after")))
    if doc["meta"].get("failed"):
        print("FAILED benches (their parts are missing): %s" % doc["meta"]["failed"])
    parts = doc["parts"]
    print_kernels(parts.get("kernels", {}), doc["meta"].get("kernels_exit", "0"))
    ok = None
    p = parts.get("pipeline", {})
    scan = find_run(p, "scan", 1) if not p.get("missing") else None
    if scan:
        # One thread does all the work with threads=1, so on a quiet machine the wall and
        # the CPU ratios agree; a busy one disturbs the wall clock most. Both must pass.
        ok = (scan["ratio_to_decode_wall"]["median"] <= 1.05 and
              scan["ratio_to_decode_cpu"]["median"] <= 1.05)
    print("2. Pipeline: full scan / decode-only, 1080p H.264   target: <= 1.05 wall and cpu "
          "(1 thread)   %s" % verdict(ok))
    print_pipeline(p, "B-frames")
    if "pipeline_nob" in parts:
        print_pipeline(parts["pipeline_nob"], "no B")
    print_fast(parts.get("fast", {"missing": True, "reason": "not run"}))
    print_memory(parts.get("memory", {"missing": True, "reason": "not run"}))
    print_archive(parts.get("archive", {"missing": True, "reason": "not run"}))
    if "anchors" in parts:
        print_anchors(parts["anchors"])
    if "quality" in parts and not parts["quality"].get("missing"):
        q = parts["quality"]
        print("   quality.py: %s" % ("ALL PASS" if q.get("pass") else "SOME FAIL"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta", action="append", default=[], help="KEY=VALUE")
    ap.add_argument("--clip", action="append", default=[], help="clips to describe")
    ap.add_argument("parts", nargs="*", help="PART=FILE")
    a = ap.parse_args()
    meta = dict(kv.split("=", 1) for kv in a.meta)
    parts = {}
    for pf in a.parts:
        name, path = pf.split("=", 1)
        parts[name] = load(path)
    machine = next((p["machine"] for p in parts.values() if isinstance(p.get("machine"), dict)),
                   {})
    doc = {"date": meta.get("date", ""), "meta": meta, "machine": machine,
           "clips": [probe(c) for c in a.clip], "parts": parts}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=2)
    print_table(doc)
    print("\nreport: %s" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
