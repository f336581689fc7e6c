#!/usr/bin/env python3
"""Writes the sample uploads the demo sends (samples/uploads/<key>), all made here from
scratch, and samples/expected.json: the outcome each one must get, from the last stage that
handles it (the router, or the worker of its tier where that worker exists).

Run from anywhere: python3 samples/generate.py. Worker issues add their samples here. The AVIF
photo needs Pillow (libavif): run with .local/moto-venv/bin/python (the emulator's virtualenv
has it) to remake it; without Pillow the shipped one is kept.
"""
import json
import struct
import zipfile
import zlib
from io import BytesIO
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


def docx(title: str, author: str, paragraphs: list) -> bytes:
    """A Word document (Office Open XML): the package parts Word needs, the paragraphs as
    runs of text, title and author in its core properties. Fixed entry dates: the same bytes
    every time."""
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        "</Relationships>",
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}<w:sectPr/></w:body></w:document>",
        "docProps/core.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator></cp:coreProperties>",
    }
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


def png(width: int, height: int, pixel, alpha: bool = False) -> bytes:
    """An 8-bit RGB or RGBA PNG whose pixels come from pixel(x, y) -> tuple."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\0" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def avif_photo():
    """A 640x400 landscape as a phone stores a portrait photo: sideways, with EXIF orientation 6,
    which libavif writes as the container's `irot`; its thumbnail must come out upright
    (400x640). None when Pillow is not installed."""
    try:
        from PIL import Image
    except ImportError:
        return None
    width, height = 640, 400
    image = Image.new("RGB", (width, height))
    image.putdata([
        (min(255, 120 + x * 135 // width), 60 + y * 120 // height, 160 - y * 100 // height)
        for y in range(height) for x in range(width)
    ])
    exif = Image.Exif()
    exif[0x0112] = 6
    out = BytesIO()
    image.save(out, "AVIF", quality=70, exif=exif.tobytes())
    return out.getvalue()


def thumbnail(status: str) -> dict:
    return {"stage": "thumbnail", "status": status, "tier": "thumbnail"}


def extractor(status: str) -> dict:
    return {"stage": "extractor", "status": status, "tier": "document"}


def verdict(status: str, **extra) -> dict:
    """The compliance verdict, written once every checker a text file goes to has recorded
    (`checks`: each records and notifies too)."""
    checks = ["content", "malware", "pii"]
    return {"stage": "compliance", "status": status, "tier": "compliance", "checks": checks, **extra}


# Too large to ship: the demo generates this sample's bytes itself (see `generated`).
LARGE_SAMPLE_BYTES = 200 * 1024 * 1024


SAMPLES = {
    "uploads/images/sunset gradient.png": (
        png(480, 320, lambda x, y: (255 - y * 255 // 320, x * 255 // 480, 96)),
        thumbnail("SUCCEEDED"),
    ),
    "uploads/images/logo+alpha.png": (
        png(96, 96, lambda x, y: (20, 90, 200, 255 if (x - 48) ** 2 + (y - 48) ** 2 < 1600 else 0), alpha=True),
        thumbnail("SUCCEEDED"),
    ),
    "uploads/images/badge.svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        b'<rect width="120" height="40" rx="6" fill="#2b6cb0"/><circle cx="20" cy="20" r="12" fill="#f6e05e"/>'
        b'<path d="M40 28 L60 12 L80 28 L100 12" stroke="#fff" stroke-width="4" fill="none"/></svg>\n',
        thumbnail("SUCCEEDED"),
    ),
    "uploads/images/phone photo.avif": (avif_photo(), thumbnail("SUCCEEDED")),
    "uploads/images/corrupt.jpg": (
        b"\xff\xd8\xff\xe0" + b"not really a JPEG" * 8,
        thumbnail("FAILED"),
    ),
    # key: (content, expected outcome; the router's unless a stage is named)
    "uploads/documents/quarterly report.pdf": (
        pdf("Quarterly report: revenue up 12 percent"),
        extractor("SUCCEEDED"),
    ),
    "uploads/documents/board minutes.docx": (
        docx("Board minutes", "Ada Example", ["Board minutes, 2 March", "Agreed: ship the extractor for Office files."]),
        extractor("SUCCEEDED"),
    ),
    "uploads/documents/notes+ideas.md": (
        b"# Notes\n\nShip the router first; workers follow.\n",
        extractor("SUCCEEDED"),
    ),
    "uploads/documents/broken.pdf": (
        b"%PDF-1.4\n" + b"this file lost everything after its header\n" * 4,
        extractor("FAILED"),
    ),
    "uploads/compliance/customers.csv": (
        b"name,email,card\nAda Example,ada@example.com,4111 1111 1111 1111\n",
        verdict("FLAGGED"),
    ),
    "uploads/compliance/meeting notes.txt": (
        b"Minutes: the team agreed to ship the compliance tier on Friday.\n",
        verdict("CLEAN"),
    ),
    # 1 MiB of generated CSV: its verdict's duration is the time from upload to verdict.
    "uploads/compliance/survey export.csv": (None, verdict("CLEAN", generated={"csv": 1024 * 1024})),
    # The EICAR test file is generated by the demo, so no antivirus quarantines the checkout.
    "uploads/compliance/eicar test.txt": (None, verdict("INFECTED", generated="eicar")),
    # Above the documents rule's 100 MiB: routed to the large-file task.
    "uploads/documents/sensor archive.csv": (
        None,
        {"stage": "large-file", "status": "SUCCEEDED", "tier": "large", "generated": {"csv": LARGE_SAMPLE_BYTES}},
    ),
    "uploads/documents/empty.txt": (b"", {"status": "REJECTED", "tier": None}),
    "uploads/unrouted/readme.txt": (b"No rule routes this prefix.\n", {"status": "IGNORED", "tier": None}),
}


def main() -> None:
    expected = {}
    for key, (content, outcome) in SAMPLES.items():
        expected[key] = outcome
        if content is None:
            if (UPLOADS / key.removeprefix("uploads/")).exists():
                print(f"{key}: kept as shipped (this Python cannot make it)")
            continue
        path = UPLOADS / key.removeprefix("uploads/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
