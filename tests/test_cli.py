#!/usr/bin/env python3
"""The vidmotion command, end to end: every subcommand's --help and exit codes, the
table, --json, --jsonl (lines arrive while the scan runs), Ctrl-C, the progress line,
the heatmap PNG (decoded back with FFmpeg), the timeline SVG (parsed as XML) and PNG, and
the man page.

usage: test_cli.py VIDMOTION SOURCE_DIR MAN_PAGE
Fixtures are made with ffmpeg in a temporary folder; nothing outside the repository is used.
Python 3 standard library only.
"""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

VIDMOTION, SOURCE, MAN_PAGE = sys.argv[1:4] if len(sys.argv) >= 4 else (None, None, None)
SVG = "{http://www.w3.org/2000/svg}"
COMMANDS = ["scan", "index", "query", "extract", "verify", "heatmap", "timeline"]
TMP = None

# A 32x32 white box crossing a still, noisy grey background inside y = 40..72 of 320x240.
BOX = ("-f lavfi -i color=c=0x707070:s=320x240:r=25:d={d},noise=alls=40:allf=u "
       "-f lavfi -i color=c=white:s=32x32:r=25:d={d} -filter_complex "
       "\"[0][1]overlay=x='if(lt(t,{a}),20,if(lt(t,{b}),20+(t-{a})*100,220))':y=40\" "
       "-c:v libx264 -crf 18 -g 50 -pix_fmt yuv420p -movflags +faststart")


def ffmpeg(name, args, extra=""):
    path = os.path.join(TMP, name)
    cmd = "ffmpeg -nostdin -v error -y " + args + " " + extra + " " + path
    subprocess.run(cmd, shell=True, check=True)
    return path


def make_fixtures():
    f = {}
    f["motion"] = ffmpeg("motion.mp4", BOX.format(d=4, a=1, b=3))
    f["still"] = ffmpeg("still.mp4", "-f lavfi -i color=c=0x707070:s=320x240:r=25:d=3 "
                        "-c:v libx264 -pix_fmt yuv420p")
    # Two contiguous wall-clock files of one camera; the box moves in the first only.
    f["cam1"] = ffmpeg("cam_20250101T000000Z.mp4", BOX.format(d=5, a=1, b=3),
                       "-metadata creation_time=2025-01-01T00:00:00Z")
    f["cam2"] = ffmpeg("cam_20250101T000005Z.mp4", BOX.format(d=5, a=9, b=9),
                       "-metadata creation_time=2025-01-01T00:00:05Z")
    # Long enough that events are reported well before the scan ends.
    f["long"] = ffmpeg("long.mp4", BOX.format(d=60, a=1, b=3).replace("320x240", "640x480"))
    f["bad"] = os.path.join(TMP, "bad.mp4")
    with open(f["bad"], "w") as fh:
        fh.write("not a video\n" * 50)
    f["zones"] = os.path.join(TMP, "zones.json")
    with open(f["zones"], "w") as fh:
        json.dump({"zones": [{"name": "band", "rect": [0, 0.1, 1, 0.35]},
                             {"name": "floor", "polygon": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]},
                             {"name": "corner", "rect": [0.8, 0.8, 1, 1], "exclude": True}]}, fh)
    return f


FIX = {}


def run(*args, stdout=subprocess.PIPE, timeout=120):
    p = subprocess.run([VIDMOTION] + [str(a) for a in args], stdout=stdout,
                       stderr=subprocess.PIPE, timeout=timeout)
    out = p.stdout.decode() if p.stdout is not None else ""
    return p.returncode, out, p.stderr.decode()


def out_path(name):
    path = os.path.join(TMP, name)
    if os.path.exists(path):
        os.remove(path)
    return path


def leftovers(folder):
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


def decode_png(path):
    """Width and height of a PNG that FFmpeg decodes without error."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"],
                   check=True)
    p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
                        "-of", "json", path], check=True, stdout=subprocess.PIPE)
    s = json.loads(p.stdout)["streams"][0]
    assert s["codec_name"] == "png", s
    return s["width"], s["height"]


class Help(unittest.TestCase):
    def test_version(self):
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^vidmotion \d+\.\d+\.\d+\nlibvidmotion \d+\.\d+\.\d+")

    def test_top_help_lists_commands(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for c in COMMANDS:
            self.assertRegex(out, r"\n  %s +\S" % c)
        self.assertIn("Exit status", out)

    def test_no_arguments_is_usage(self):
        rc, _, err = run()
        self.assertEqual(rc, 2)
        self.assertIn("usage: vidmotion", err)

    def test_unknown_command(self):
        self.assertEqual(run("scna")[0], 2)

    def test_every_command_has_help(self):
        for c in COMMANDS:
            rc, out, err = run(c, "--help")
            self.assertEqual(rc, 0, c)
            self.assertTrue(out.startswith("usage: vidmotion %s " % c), out)
            self.assertEqual(err, "")
            self.assertEqual(run(c, "-h")[0], 0, c)

    def test_unknown_option_is_usage_everywhere(self):
        for c in COMMANDS:
            rc, _, err = run(c, "--no-such-option", FIX["motion"])
            self.assertEqual(rc, 2, c)
            self.assertIn("no-such-option", err)

    def test_shared_options_are_the_same_everywhere(self):
        helps = {c: run(c, "--help")[1] for c in ["scan", "query", "heatmap", "timeline"]}
        for opt in ["--zone NAME=SPEC", "--zones FILE", "--mask [NAME=]SPEC", "--from T",
                    "--to T", "--width N", "--threshold N", "--fps N", "--threads N",
                    "--jobs N", "--set OPTION=VALUE", "-q, --quiet"]:
            lines = {c: [l for l in h.splitlines() if l.startswith("  " + opt)]
                     for c, h in helps.items()}
            self.assertTrue(all(lines.values()), (opt, lines))
            self.assertEqual(len({l[0] for l in lines.values()}), 1, (opt, lines))


class Scan(unittest.TestCase):
    def test_table(self):
        rc, out, err = run("scan", FIX["motion"], "--zone", "band=0,0.1,1,0.35")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"\nband +motion\.mp4 +00:00:0\d\.\d{3} 00:00:0\d\.\d{3} ")
        self.assertEqual(err, "")  # no progress line when stderr is not a terminal

    def test_no_motion_is_1(self):
        rc, out, _ = run("scan", FIX["still"])
        self.assertEqual(rc, 1)
        self.assertIn("no motion found", out)

    def test_input_errors_are_3(self):
        rc, _, err = run("scan", FIX["bad"])
        self.assertEqual(rc, 3)
        self.assertIn("bad.mp4", err)
        self.assertEqual(run("scan", os.path.join(TMP, "missing.mp4"))[0], 3)
        # One bad clip among good ones: the answer is printed, the status says it.
        rc, out, _ = run("scan", FIX["motion"], FIX["bad"], "--json")
        self.assertEqual(rc, 3)
        self.assertEqual(len(json.loads(out)["clips"]), 2)

    def test_usage_errors_are_2(self):
        for args in (["--from", "yesterday"], ["--zone", "band=0,0,2,1"], ["--zone", "band"],
                     ["--set", "nosuch=1"], ["--width"], ["--json", "--jsonl"],
                     ["--zones", os.path.join(TMP, "nosuch.json")]):
            rc, _, err = run("scan", FIX["motion"], *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertTrue(err.startswith("vidmotion: "), err)
        self.assertEqual(run("scan")[0], 2)

    def test_output_error_is_4(self):
        with open("/dev/full", "w") as full:
            rc, _, err = run("scan", FIX["motion"], "--json", stdout=full)
        self.assertEqual(rc, 4, err)

    def test_json(self):
        rc, out, _ = run("scan", FIX["motion"], "--zones", FIX["zones"], "--json")
        self.assertEqual(rc, 0)
        doc = json.loads(out)
        self.assertEqual(doc["zones"], ["band", "floor"])
        band = [s for s in doc["segments"] if s["zone"] == "band"]
        self.assertEqual(len(band), 1)
        self.assertLess(abs(band[0]["start"] - 1.0), 0.3)
        self.assertFalse([s for s in doc["segments"] if s["zone"] == "floor"])

    def test_times_in_three_forms(self):
        for a, b in (("0.5", "2"), ("00:00:00.500", "00:00:02.000"), ("0:00.5", "0:02")):
            rc, out, err = run("scan", FIX["motion"], "--from", a, "--to", b, "--json")
            self.assertEqual(rc, 0, err)
            segs = json.loads(out)["segments"]
            self.assertTrue(segs and all(s["end"] <= 2.0 + 1e-6 for s in segs), segs)

    def test_wall_clock_window(self):
        rc, out, err = run("scan", FIX["cam1"], FIX["cam2"], "--json",
                           "--from", "2025-01-01T00:00:00.500Z", "--to", "2025-01-01T00:00:02Z")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["segments"][0]["wall_start"][:19], "2025-01-01T00:00:01")
        self.assertIn("skipped", doc["clips"][1]["flags"])  # the second file is not decoded
        # A window after every event: no match.
        rc, _, _ = run("scan", FIX["cam1"], FIX["cam2"], "--from", "2025-01-01T00:00:06Z")
        self.assertEqual(rc, 1)
        # A wall-clock window over a clip without a wall clock cannot be answered.
        self.assertEqual(run("scan", FIX["motion"], "--from", "2025-01-01T00:00:00Z")[0], 2)

    def test_jsonl_lines(self):
        rc, out, _ = run("scan", FIX["motion"], "--jsonl", "--zone", "band=0,0.1,1,0.35")
        self.assertEqual(rc, 0)
        lines = [json.loads(l) for l in out.splitlines()]
        types = [l["type"] for l in lines]
        self.assertEqual(types[:2], ["started", "ended"])
        self.assertEqual(types[-1], "summary")
        self.assertIn("clip", types)
        self.assertIn("segment", types)
        self.assertEqual(lines[-1]["exit"], 0)
        seg = [l for l in lines if l["type"] == "segment"][0]
        self.assertEqual(seg["zone"], "band")
        self.assertAlmostEqual(seg["start"], lines[0]["t"], places=3)
        # Live lines do not carry "start": readers collecting segments count each once.
        self.assertFalse([l for l in lines if l["type"] in ("started", "ended") and "start" in l])

    def test_jsonl_streams_while_scanning(self):
        with subprocess.Popen([VIDMOTION, "scan", FIX["long"], "--jsonl", "--threads", "1",
                               "--jobs", "1"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL) as p:
            first = p.stdout.readline()
            still_running = p.poll() is None
            rest = p.stdout.read()
        self.assertEqual(json.loads(first)["type"], "started")
        self.assertTrue(still_running, "the first event arrived only when the scan had ended")
        self.assertIn(b'"type":"summary"', rest)

    def test_ctrl_c_prints_partial_results(self):
        p = subprocess.Popen([VIDMOTION, "scan", FIX["long"], "--json", "--threads", "1",
                              "--jobs", "1", "--set", "pipeline=0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.4)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        if p.returncode == 0:
            self.skipTest("the scan finished before the signal")
        self.assertEqual(p.returncode, 130, err)
        doc = json.loads(out)
        self.assertIn("cancelled", doc["clips"][0]["flags"])
        self.assertLess(doc["clips"][0]["frames"], 1500)

    def test_progress_on_a_terminal_only(self):
        for quiet in (False, True):
            master, slave = pty.openpty()
            args = [VIDMOTION, "scan", FIX["long"], "--threads", "1", "--jobs", "1"]
            p = subprocess.Popen(args + (["--quiet"] if quiet else []),
                                 stdout=subprocess.DEVNULL, stderr=slave)
            os.close(slave)
            seen = b""
            while True:
                r, _, _ = select.select([master], [], [], 30)
                try:
                    chunk = os.read(master, 4096) if r else b""
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                seen += chunk
            os.close(master)
            p.wait()
            if quiet:
                self.assertEqual(seen, b"")
            else:
                self.assertIn(b"files", seen)
                self.assertIn(b"fps", seen)
                self.assertTrue(seen.endswith(b"\r\x1b[K"), seen[-40:])  # cleared at the end


class IndexQuery(unittest.TestCase):
    def test_index_then_query(self):
        clip = os.path.join(TMP, "indexed.mp4")
        shutil.copy(FIX["motion"], clip)
        rc, out, err = run("index", clip)
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.exists(clip + ".vmoidx"))
        self.assertEqual(run("index", "--check", clip)[0], 0)
        rc, out, _ = run("query", clip, "--zone", "band=0,0.1,1,0.35", "--json")
        self.assertEqual(rc, 0)
        doc = json.loads(out)
        self.assertIn("indexed", doc["clips"][0]["flags"])
        self.assertEqual(len(doc["segments"]), 1)
        self.assertEqual(run("query", clip, "--zone", "x=0,0.8,0.1,1")[0], 1)
        self.assertEqual(run("index", "--check", FIX["still"])[0], 3)


class ExtractVerify(unittest.TestCase):
    def test_extract_and_verify(self):
        outdir = os.path.join(TMP, "export")
        os.makedirs(outdir, exist_ok=True)
        rc, out, err = run("extract", FIX["motion"], "--out", outdir)
        self.assertEqual(rc, 0, err)
        manifest = os.path.join(outdir, "manifest.json")
        self.assertTrue(os.path.exists(manifest))
        self.assertEqual(run("verify", manifest)[0], 0)
        clips = [n for n in os.listdir(outdir) if n.endswith(".mp4")]
        self.assertTrue(clips)
        with open(os.path.join(outdir, clips[0]), "ab") as fh:
            fh.write(b"tampered")
        self.assertEqual(run("verify", manifest)[0], 3)
        self.assertEqual(run("verify")[0], 2)
        self.assertEqual(run("extract", FIX["motion"])[0], 2)  # --out is required
        os.makedirs(os.path.join(TMP, "export2"), exist_ok=True)
        self.assertEqual(run("extract", FIX["still"], "--out", os.path.join(TMP, "export2"))[0], 1)


class Heatmap(unittest.TestCase):
    def test_png(self):
        path = out_path("heat.png")
        rc, out, err = run("heatmap", FIX["motion"], "--zones", FIX["zones"], "-o", path)
        self.assertEqual(rc, 0, err)
        w, h = decode_png(path)
        self.assertEqual(w, 640)
        self.assertGreater(h, 480)  # the picture (4:3) and the legend under it
        self.assertIn(path, out)
        rc, _, err = run("heatmap", FIX["motion"], "-o", path, "--image-width", "320",
                         "--overwrite", "--quiet")
        self.assertEqual(rc, 0, err)
        self.assertEqual(decode_png(path)[0], 320)

    def test_refuses_to_overwrite(self):
        path = out_path("kept.png")
        with open(path, "w") as fh:
            fh.write("mine")
        rc, _, err = run("heatmap", FIX["motion"], "-o", path)
        self.assertEqual(rc, 4)
        self.assertIn("--overwrite", err)
        with open(path) as fh:
            self.assertEqual(fh.read(), "mine")

    def test_exit_codes(self):
        self.assertEqual(run("heatmap", FIX["motion"])[0], 2)  # no -o
        self.assertEqual(run("heatmap", FIX["still"], "-o", out_path("still.png"))[0], 1)
        self.assertTrue(os.path.exists(os.path.join(TMP, "still.png")))
        self.assertEqual(run("heatmap", FIX["bad"], "-o", out_path("bad.png"))[0], 3)
        self.assertFalse(os.path.exists(os.path.join(TMP, "bad.png")))
        rc, _, _ = run("heatmap", FIX["motion"], "-o", os.path.join(TMP, "no", "dir", "h.png"))
        self.assertEqual(rc, 4)
        self.assertEqual(leftovers(TMP), [])

    def test_ctrl_c_writes_nothing(self):
        path = out_path("interrupted.png")
        p = subprocess.Popen([VIDMOTION, "heatmap", FIX["long"], "-o", path, "--threads", "1",
                              "--jobs", "1", "--set", "pipeline=0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.4)
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
        if p.returncode == 0:
            self.skipTest("the scan finished before the signal")
        self.assertEqual(p.returncode, 130)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(leftovers(TMP), [])


class Timeline(unittest.TestCase):
    def svg(self, *args):
        path = out_path("timeline.svg")
        rc, _, err = run("timeline", *args, "-o", path)
        self.assertIn(rc, (0, 1), err)
        return rc, ET.parse(path).getroot()

    def test_svg_elements(self):
        rc, root = self.svg(FIX["motion"], "--zones", FIX["zones"])
        self.assertEqual(rc, 0)
        self.assertEqual(root.tag, SVG + "svg")
        groups = {}
        for g in root.iter(SVG + "g"):
            groups.setdefault(g.get("class"), []).append(g)
        self.assertEqual(len(groups["series"]), 2)  # one line per zone
        for g in groups["series"]:
            self.assertTrue(g.findall(SVG + "polyline"))
        self.assertEqual(len(groups["threshold"]), 1)
        segs = json.loads(run("scan", FIX["motion"], "--zones", FIX["zones"], "--json")[1])
        self.assertEqual(len(groups["event"]), len(segs["segments"]))
        texts = [t.text for t in root.iter(SVG + "text")]
        self.assertIn("band", texts)
        self.assertIn("floor", texts)

    def test_wall_clock_axis(self):
        rc, root = self.svg(FIX["cam1"], FIX["cam2"])
        self.assertEqual(rc, 0)
        texts = [t.text or "" for t in root.iter(SVG + "text")]
        self.assertIn("00:00:02", texts)
        self.assertTrue([t for t in texts if t.startswith("time (UTC), 2025-01-01")], texts)

    def test_png(self):
        path = out_path("timeline.png")
        rc, _, err = run("timeline", FIX["motion"], "-o", path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(decode_png(path)[0], 960)

    def test_exit_codes(self):
        self.assertEqual(run("timeline", FIX["motion"], "-o", out_path("t.jpg"))[0], 2)
        self.assertEqual(run("timeline", FIX["motion"])[0], 2)
        self.assertEqual(run("timeline", FIX["still"], "-o", out_path("t.svg"))[0], 1)
        self.assertEqual(run("timeline", FIX["bad"], "-o", out_path("t2.svg"))[0], 3)
        self.assertEqual(run("timeline", FIX["motion"], "-o", "/proc/nope/t.svg")[0], 4)


class ManPage(unittest.TestCase):
    def test_generated_page(self):
        with open(MAN_PAGE) as fh:
            page = fh.read()
        self.assertTrue(page.startswith(".TH VIDMOTION 1"))
        for c in COMMANDS:
            self.assertIn('.SS "vidmotion %s ' % c, page)
        self.assertIn(".SH EXIT STATUS", page)
        # The page is the --help texts: an option of each command appears in it.
        self.assertIn("\\-\\-image\\-width", page)
        self.assertIn("\\-\\-overwrite", page)

    def test_renders_cleanly(self):
        if not shutil.which("groff"):
            self.skipTest("no groff")
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN_PAGE],
                           stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr.decode(), "")

    def test_matches_the_binary(self):
        p = subprocess.run([VIDMOTION, "--man"], stdout=subprocess.PIPE, check=True)
        with open(MAN_PAGE, "rb") as fh:
            self.assertEqual(p.stdout, fh.read())


if __name__ == "__main__":
    if not VIDMOTION:
        sys.exit(__doc__)
    TMP = tempfile.mkdtemp(prefix="vmo_cli_")
    try:
        FIX.update(make_fixtures())
        unittest.main(argv=sys.argv[:1] + sys.argv[4:], verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
