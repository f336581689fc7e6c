#!/usr/bin/env python3
"""Writes the sample uploads the demo sends (samples/uploads/<key>), all made here from
scratch, and samples/expected.json: the router outcome each one must get.

Run from anywhere: python3 samples/generate.py. Worker issues add their samples here.
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPLOADS = HERE / "uploads"


def pdf(text: str) -> bytes:
    """A one-page PDF 1.4 with `text` in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


SAMPLES = {
    # key: (content, expected router outcome)
    "uploads/documents/quarterly report.pdf": (
        pdf("Quarterly report: revenue up 12 percent"),
        {"status": "ROUTED", "tier": "document"},
    ),
    "uploads/documents/notes+ideas.md": (
        b"# Notes\n\nShip the router first; workers follow.\n",
        {"status": "ROUTED", "tier": "document"},
    ),
    "uploads/compliance/customers.csv": (
        b"name,email,card\nAda Example,ada@example.com,4111 1111 1111 1111\n",
        {"status": "ROUTED", "tier": "compliance"},
    ),
    "uploads/documents/empty.txt": (b"", {"status": "REJECTED", "tier": None}),
    "uploads/unrouted/readme.txt": (b"No rule routes this prefix.\n", {"status": "IGNORED", "tier": None}),
}


def main() -> None:
    expected = {}
    for key, (content, outcome) in SAMPLES.items():
        path = UPLOADS / key.removeprefix("uploads/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        expected[key] = outcome
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
