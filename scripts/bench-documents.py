#!/usr/bin/env python3
"""Document text benchmark: our extractor against pandoc, side by side.

    python3 scripts/bench-documents.py [--sources DIR]

The inputs are made by another producer than ours: pandoc writes every Markdown file of the
repository (README.md, docs/*.md; or --sources) as DOCX, ODT, PPTX, EPUB, HTML and RTF, and all
of them joined as one large DOCX. Ours is the release `extractor` binary's parser child, as
production runs it (a process per file, the file on stdin); pandoc reads each file but the PPTX
back to plain text (`-t plain`; it cannot read PPTX). E-mail is not here: pandoc has no reader. For each file: time and peak RSS of both processes, and
word recall, the share of the reference's words (as a multiset) our text contains, against
two references: pandoc's reading of the same file, and the Markdown source as pandoc renders
it to plain text (which PPTX is held to). Installs pandoc with apt-get when missing.
"""
import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchlib import ROOT, build_binary, ensure_apt_tool, recall, step, timed

MAX_PART_BYTES = str(64 << 20)
# The parser child's argument for each format (`extractor::document::Kind`).
KINDS = {"docx": "package", "odt": "package", "pptx": "package", "epub": "package", "html": "html", "rtf": "rtf"}


def plain(path: Path, source_format: str = None) -> str:
    command = ["pandoc", "-t", "plain", "--wrap=none", str(path)]
    if source_format:
        command[1:1] = ["-f", source_format]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def ours(parser_child: Path, path: Path) -> tuple:
    """(text or None, the reason when it failed, wall s, peak RSS MB)."""
    with open(path, "rb") as document:
        kind = KINDS[path.suffix.lstrip(".")]
        run, wall, rss = timed([str(parser_child), "--parse-document", MAX_PART_BYTES, kind], stdin=document)
    outcome = json.loads(run.stdout) if run.returncode == 0 and run.stdout else {}
    parsed = outcome.get("Parsed", {}).get("Document")
    if parsed is None:
        return None, str(outcome or run.returncode), wall, rss
    return parsed["text"], "", wall, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", help="a directory of Markdown files (default: README.md and docs/)")
    args = parser.parse_args()
    sources = sorted(Path(args.sources).glob("*.md")) if args.sources else [ROOT / "README.md"] + sorted(
        (ROOT / "docs").glob("*.md"))
    ensure_apt_tool("pandoc", "pandoc")
    parser_child = build_binary("extractor", "extractor")
    version = subprocess.run(["pandoc", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        joined = work / "all-docs.md"
        joined.write_text("\n\n".join(source.read_text() for source in sources))
        step(f"writing {len(sources)} Markdown files (and all of them joined) as DOCX, ODT, PPTX, EPUB, HTML, RTF with {version}")
        documents = []
        for source in sources + [joined]:
            formats = ["docx"] if source == joined else list(KINDS)
            for extension in formats:
                target = work / f"{source.stem}.{extension}"
                # Standalone: a whole HTML page and RTF document, not a fragment; a title for EPUB.
                subprocess.run(["pandoc", "-f", "markdown", "-s", "--metadata", f"title={source.stem}",
                                str(source), "-o", str(target)], check=True, stderr=subprocess.DEVNULL)
                documents.append((source, target))
        step(f"extracting {len(documents)} documents: ours, then pandoc on each")
        for source, document in documents:
            text, reason, ours_wall, ours_rss = ours(parser_child, document)
            source_text = plain(source, "markdown")
            if document.suffix == ".pptx":
                pandoc_text, theirs_wall, theirs_rss = None, float("nan"), float("nan")
            else:
                run, theirs_wall, theirs_rss = timed(["pandoc", "-t", "plain", "--wrap=none", str(document)])
                pandoc_text = run.stdout if run.returncode == 0 else None
            rows.append({
                "file": document.name,
                "bytes": document.stat().st_size,
                "ours_ms": ours_wall * 1e3,
                "ours_rss": ours_rss,
                "pandoc_ms": theirs_wall * 1e3,
                "pandoc_rss": theirs_rss,
                "recall_pandoc": recall(text, pandoc_text) if text is not None and pandoc_text else float("nan"),
                "recall_source": recall(text, source_text) if text is not None else float("nan"),
                "outcome": "ok" if text is not None else f"failed: {reason}",
            })

    print(f"Document text benchmark: {len(rows)} files written by {version}")
    print(f"{'file':34} {'KiB':>7} {'ours ms':>8} {'pandoc ms':>9} {'ratio':>6} {'ours RSS':>8} "
          f"{'pandoc RSS':>10} {'recall/pandoc':>13} {'recall/source':>13}  outcome")
    for row in rows:
        print(f"{row['file'][:34]:34} {row['bytes'] / 1024:7.1f} {row['ours_ms']:8.1f} {row['pandoc_ms']:9.1f} "
              f"{row['pandoc_ms'] / row['ours_ms']:6.1f} {row['ours_rss']:8.1f} {row['pandoc_rss']:10.1f} "
              f"{row['recall_pandoc']:13.3f} {row['recall_source']:13.3f}  {row['outcome'][:60]}")
    print()
    for extension in KINDS:
        chosen = [row for row in rows if row["file"].endswith(extension) and row["outcome"] == "ok"]
        failed = sum(1 for row in rows if row["file"].endswith(extension) and row["outcome"] != "ok")
        if not chosen:
            continue
        against_pandoc = [row["recall_pandoc"] for row in chosen if row["recall_pandoc"] == row["recall_pandoc"]]
        against_source = [row["recall_source"] for row in chosen]
        line = (f"{extension}: {len(chosen)} ok, {failed} failed; word recall vs source median "
                f"{statistics.median(against_source):.3f} (min {min(against_source):.3f})")
        if against_pandoc:
            ours_ms = statistics.median(row["ours_ms"] for row in chosen)
            pandoc_ms = statistics.median(row["pandoc_ms"] for row in chosen)
            line += (f", vs pandoc median {statistics.median(against_pandoc):.3f} (min {min(against_pandoc):.3f}); "
                     f"median time ours {ours_ms:.1f} ms, pandoc {pandoc_ms:.1f} ms ({pandoc_ms / ours_ms:.1f}x); "
                     f"peak RSS ours {max(r['ours_rss'] for r in chosen):.1f} MB, "
                     f"pandoc {max(r['pandoc_rss'] for r in chosen):.1f} MB")
        print(line)


if __name__ == "__main__":
    main()
