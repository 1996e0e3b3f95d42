#!/usr/bin/env python3
"""Scans a clip, prints its motion events, and (if matplotlib is installed) plots the
per-frame motion scores of each zone with the events shaded.

    python3 scan_events.py clip.mp4 [--zone porch=0.1,0.4,0.6,1] [--plot scores.png]
"""

from __future__ import annotations

import argparse
import sys

import vidmotion


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--zone", action="append", default=[], metavar="NAME=SPEC",
                    help="a zone: NAME=x0,y0,x1,y1 or NAME=poly:x,y;x,y;... (repeatable)")
    ap.add_argument("--plot", metavar="PNG", help="write the plot to this file instead of "
                    "showing it in a window")
    args = ap.parse_args(argv)
    zones = dict(z.split("=", 1) for z in args.zone) or None

    try:
        result = vidmotion.scan(args.clip, zones=zones, frames=True)
    except vidmotion.Error as e:
        print(f"{args.clip}: {e}", file=sys.stderr)
        return 3

    clip = result.clips[0]
    print(f"{clip.path}: {clip.duration:.1f} s, {clip.frames} frames, {clip.width}x"
          f"{clip.height}, zones {', '.join(result.zones)}")
    for seg in result.segments:
        when = f" at {seg.wall_start:%Y-%m-%d %H:%M:%S} UTC" if seg.wall_start else ""
        print(f"  motion in {seg.zone}: {seg.start:6.2f} s - {seg.end:6.2f} s{when}, "
              f"peak {seg.peak:.1%} of the zone")
    if not result.segments:
        print("  no motion")

    try:
        import matplotlib
    except ImportError:
        print("(matplotlib is not installed: no plot)")
        return 0
    if args.plot:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 3.5))
    for zone in result.zones:
        series = result.series(0, zone)  # numpy views of the result's memory, no copy
        ax.plot(series.t, series.changed, label=zone, linewidth=1)
    for seg in result.segments:
        ax.axvspan(seg.start, seg.end, alpha=0.15, color="tab:red")
    ax.set_xlabel("seconds")
    ax.set_ylabel("changed fraction of the zone")
    ax.set_title(clip.path)
    ax.legend(loc="upper right")
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=100)
        print(f"plot written to {args.plot}")
    else:
        plt.show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
