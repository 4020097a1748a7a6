#!/usr/bin/env python3
"""Decodes every barcode and QR code printed in a PDF (tests only).

Usage: zxing-decode.py FILE.pdf [DPI]

Each page is rendered in grey by pdftoppm (poppler-utils) and read by
zxing-cpp (PyPI `zxing-cpp`, in the venv scripts/test makes). Prints one
JSON object a line: page, format, symbology identifier (`]C1` = GS1-128)
and the text as encoded (TextMode.Plain: no brackets added).
"""
import json
import subprocess
import sys

import zxingcpp


def pages(path, dpi):
    n = 1
    while True:
        out = subprocess.run(
            ["pdftoppm", "-gray", "-r", str(dpi), "-f", str(n), "-l", str(n), "-singlefile", path],
            capture_output=True,
        )
        if out.returncode != 0 or not out.stdout:
            return
        yield n, out.stdout
        n += 1


def pgm(data):
    # P5 <w> <h> <max>\n then bytes
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5", fields[0]
    w, h = int(fields[1]), int(fields[2])
    return w, h, memoryview(data[pos + 1 : pos + 1 + w * h]).cast("B", (h, w))


def main():
    path = sys.argv[1]
    dpi = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    for n, data in pages(path, dpi):
        w, h, view = pgm(data)
        for b in zxingcpp.read_barcodes(view, text_mode=zxingcpp.TextMode.Plain):
            print(json.dumps({
                "page": n,
                "format": str(b.format).split(".")[-1],
                "symbology": b.symbology_identifier,
                "text": b.text,
            }, ensure_ascii=False))


if __name__ == "__main__":
    main()
