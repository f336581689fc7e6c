#!/usr/bin/env python3
"""Thumbnail benchmark: our worker's code against libvips, side by side, on the same images.

    python3 scripts/bench-thumbnail.py [--images DIR] [--size 256] [--quality 80]

Installs what it needs: libvips-tools (vipsthumbnail) with apt-get when missing, pyvips into
.local/bench-venv, and builds our release example `bench_corpus`. Three runs over the corpus
(default ../shared/corpus/images), each one process over every image:

  ours          workers/thumbnail/examples/bench_corpus.rs: warm-up pass, then per-image times;
                and once more without warm-up, one pass, for the whole-process comparison
  pyvips        libvips in-process via pyvips, same warm-up, per-image times
  vipsthumbnail one process over all files (its start-up paid once), wall time only

Both sides shrink only (libvips's `size=down`, as our worker never enlarges). Per-image times
include reading the file and encoding the thumbnail to memory. Peak RSS is
each process's maximum resident set (/usr/bin/time). The output format is stable: later runs
can be compared line by line.
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import ROOT, build_example, ensure_apt_tool, ensure_pip_package, step, timed

PYVIPS = "pyvips==3.2.0"

PYVIPS_RUNNER = r"""
import os, sys, time, pyvips
directory, size, quality = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = sorted(os.listdir(directory))
def run(name):
    try:
        image = pyvips.Image.thumbnail(os.path.join(directory, name), size, size="down")
        image.write_to_buffer(".jpg[Q=%d]" % quality)
        return "ok %dx%d" % (image.width, image.height)
    except pyvips.Error as err:
        return "failed: " + str(err).splitlines()[0]
for name in files:
    run(name)
started = time.perf_counter()
for name in files:
    image_started = time.perf_counter()
    outcome = run(name)
    print("image\t%s\t%.2f\t%s" % (name, (time.perf_counter() - image_started) * 1e3, outcome))
print("total\t%.2f" % ((time.perf_counter() - started) * 1e3))
"""


def parse(stdout: str) -> tuple:
    images, total = {}, None
    for line in stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == "image":
            images[fields[1]] = (float(fields[2]), fields[3])
        elif fields[0] == "total":
            total = float(fields[1])
    return images, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default=str(ROOT.parent / "shared" / "corpus" / "images"))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=80)
    args = parser.parse_args()
    images = Path(args.images)
    if not images.is_dir():
        sys.exit(f"no image directory at {images}: pass --images DIR")
    ensure_apt_tool("vipsthumbnail", "libvips-tools")
    python = ensure_pip_package(PYVIPS) / "python"
    ours_binary = build_example("thumbnail", "bench_corpus")
    size, quality = str(args.size), str(args.quality)

    step("running ours, pyvips and vipsthumbnail over the same images")
    ours_run, _, _ = timed([str(ours_binary), str(images), size, quality, "1"])
    _, ours_wall, ours_rss = timed([str(ours_binary), str(images), size, quality, "0"])
    vips_run, vips_wall, vips_rss = timed([str(python), "-c", PYVIPS_RUNNER, str(images), size, quality])
    with tempfile.TemporaryDirectory() as out_dir:
        files = sorted(str(p) for p in images.iterdir())
        _, cli_wall, cli_rss = timed(
            ["vipsthumbnail", "-s", f"{size}x{size}>", "-o", f"{out_dir}/%s.jpg[Q={quality}]"] + files
        )
    ours, ours_total = parse(ours_run.stdout)
    vips, vips_total = parse(vips_run.stdout)

    print(f"thumbnail benchmark: {len(ours)} images from {images}, longest edge {size} px, JPEG Q{quality}")
    print(f"{'image':48} {'ours ms':>9} {'vips ms':>9} {'ratio':>6}  outcome (ours | vips)")
    both_ok = []
    for name in sorted(ours):
        ours_ms, ours_outcome = ours[name]
        vips_ms, vips_outcome = vips.get(name, (float("nan"), "missing"))
        ratio = ours_ms / vips_ms if vips_ms > 0 else float("nan")
        if ours_outcome.startswith("ok") and vips_outcome.startswith("ok"):
            both_ok.append((ours_ms, vips_ms))
        print(f"{name[:48]:48} {ours_ms:9.2f} {vips_ms:9.2f} {ratio:6.2f}  {ours_outcome[:40]} | {vips_outcome[:40]}")
    ours_median = statistics.median(o for o, _ in both_ok)
    vips_median = statistics.median(v for _, v in both_ok)
    print()
    print(f"median per image (both ok, n={len(both_ok)}): ours {ours_median:.2f} ms, pyvips {vips_median:.2f} ms, ratio {ours_median / vips_median:.2f}")
    ours_ok_total = sum(o for o, _ in both_ok)
    vips_ok_total = sum(v for _, v in both_ok)
    print(f"total over images both render: ours {ours_ok_total:.1f} ms, pyvips {vips_ok_total:.1f} ms, ratio {ours_ok_total / vips_ok_total:.2f}")
    print(f"total in-process over every file (timed pass): ours {ours_total:.1f} ms, pyvips {vips_total:.1f} ms, ratio {ours_total / vips_total:.2f}")
    print(f"whole process, one pass over all files: ours {ours_wall * 1e3:.0f} ms, vipsthumbnail {cli_wall * 1e3:.0f} ms, ratio {ours_wall / cli_wall:.2f}")
    print(f"peak RSS: ours {ours_rss:.1f} MB, pyvips {vips_rss:.1f} MB (Python included), vipsthumbnail {cli_rss:.1f} MB, ratio ours/vipsthumbnail {ours_rss / cli_rss:.2f}")


if __name__ == "__main__":
    main()
