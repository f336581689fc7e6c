#!/usr/bin/env python3
"""PDF text benchmark: our extractor against pdftotext, side by side, on the same files.

    python3 scripts/bench-extractor.py [--pdfs DIR]

Installs poppler-utils (pdftotext) with apt-get when missing and builds our release example
`extract_corpus` and the release `extractor` binary. Ours runs once over every file in one
process (per-file times inside it) for the text, and then as production parses a document: the
extractor binary's parser child (`--parse-document`, one process per file, the PDF on stdin).
pdftotext runs once per file, as it is used. For each file: outcome on both sides, in-process
time, process time and peak RSS of both per-file processes (/usr/bin/time), and word recall: the
share of pdftotext's words (as a multiset) that our text contains. The output format is stable:
later runs can be compared line by line.
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from benchlib import ROOT, build_binary, build_example, ensure_apt_tool, recall, step, timed, words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", default=str(ROOT.parent / "shared" / "corpus" / "pdfs"))
    args = parser.parse_args()
    pdfs = Path(args.pdfs)
    if not pdfs.is_dir():
        sys.exit(f"no PDF directory at {pdfs}: pass --pdfs DIR")
    ensure_apt_tool("pdftotext", "poppler-utils")
    ours_binary = build_example("extractor", "extract_corpus")
    parser_child = build_binary("extractor", "extractor")
    with tempfile.TemporaryDirectory() as work:
        ours_dir, theirs_dir = Path(work, "ours"), Path(work, "pdftotext")
        theirs_dir.mkdir()
        step("running ours over every file, then pdftotext on each")
        ours_run, _, ours_rss = timed([str(ours_binary), str(pdfs), str(ours_dir)])
        ours = {}
        for line in ours_run.stdout.splitlines():
            fields = line.split("\t")
            if fields[0] == "file":
                ours[fields[1]] = (float(fields[2]), fields[3])
        rows, theirs_peak = [], 0.0
        for name in sorted(ours):
            out = theirs_dir / f"{name}.txt"
            run, wall, rss = timed(["pdftotext", "-q", "-enc", "UTF-8", str(pdfs / name), str(out)])
            theirs_peak = max(theirs_peak, rss)
            with open(pdfs / name, "rb") as document:
                _, child_wall, child_rss = timed([str(parser_child), "--parse-document", str(100 << 20)],
                                                 stdin=document)
            theirs_ok = run.returncode == 0
            reference = out.read_text(errors="replace") if theirs_ok else ""
            ours_ms, ours_outcome = ours[name]
            ours_text = (ours_dir / f"{name}.txt").read_text(errors="replace")
            score = recall(ours_text, reference) if ours_outcome == "ok" and theirs_ok else float("nan")
            theirs_words = sum(words(reference).values())
            rows.append((name, ours_ms, ours_outcome, wall * 1e3, theirs_ok, score, theirs_words,
                         child_wall * 1e3, child_rss, rss))

    print(f"PDF text benchmark: {len(rows)} files from {pdfs}")
    print(f"{'file':46} {'ours ms':>9} {'ours proc ms':>12} {'pdftotext ms':>12} {'ratio':>6} "
          f"{'ours RSS':>8} {'pdftotext RSS':>13} {'recall':>7}  outcome (ours | pdftotext)")
    for name, ours_ms, outcome, theirs_ms, theirs_ok, score, _, proc_ms, proc_rss, theirs_rss in rows:
        print(
            f"{name[:46]:46} {ours_ms:9.2f} {proc_ms:12.2f} {theirs_ms:12.2f} {proc_ms / theirs_ms:6.2f} "
            f"{proc_rss:8.1f} {theirs_rss:13.1f} {score:7.3f}  {outcome[:48]} | {'ok' if theirs_ok else 'failed'}"
        )
    both = [r for r in rows if r[2] == "ok" and r[4]]
    # pdftotext "handles" a file when it gets words out of it; an empty success is no text.
    lost = [r[0] for r in rows if r[2] != "ok" and r[4] and r[6] > 0]
    scores = [r[5] for r in both if r[5] == r[5]]
    print()
    print(f"pdftotext ok: {sum(r[4] for r in rows)}, ours ok: {sum(r[2] == 'ok' for r in rows)}, "
          f"ours failed where pdftotext got text: {len(lost)} {lost}")
    print(f"median word recall (both ok, n={len(scores)}): {statistics.median(scores):.3f}; "
          f"minimum {min(scores):.3f}")
    ours_median = statistics.median(r[1] for r in both)
    theirs_median = statistics.median(r[3] for r in both)
    print(f"median time (both ok): ours {ours_median:.2f} ms, pdftotext {theirs_median:.2f} ms "
          f"(process per file), ratio {ours_median / theirs_median:.2f}")
    print(f"total time (both ok): ours {sum(r[1] for r in both):.0f} ms, "
          f"pdftotext {sum(r[3] for r in both):.0f} ms")
    proc_median = statistics.median(r[7] for r in both)
    print(f"median time per file, a process per file on both sides (both ok): ours {proc_median:.2f} ms, "
          f"pdftotext {theirs_median:.2f} ms, ratio {proc_median / theirs_median:.2f}")
    rss_ratios = [r[8] / r[9] for r in both]
    print(f"peak RSS per file (both ok): median ratio {statistics.median(rss_ratios):.2f}, "
          f"worst ratio {max(rss_ratios):.2f}; largest: ours {max(r[8] for r in rows):.1f} MB, "
          f"pdftotext {theirs_peak:.1f} MB; ours in one process over every file {ours_rss:.1f} MB")


if __name__ == "__main__":
    main()
