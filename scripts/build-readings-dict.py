#!/usr/bin/env python3
"""Builds crates/jp/dict/ipadic/, the dictionary behind jp::reading's
morphological analyser (search by reading, furigana), from IPAdic as Debian
ships it (package mecab-ipadic: the source CSVs, matrix.def, char.def and
unk.def).

    scripts/build-readings-dict.py            # downloads mecab-ipadic with apt-get
    scripts/build-readings-dict.py DIR        # or reads IPAdic's sources from DIR

It writes, all UTF-8 and derived from IPAdic only:

  lex.tsv     surface<TAB>context id<TAB>word cost<TAB>reading, one line per
              (surface, context id) with the lowest cost of the entries that
              share both (only that one can win in the lattice). The reading
              (hiragana) is kept only for surfaces with a kanji; the
              analyser shows other words as they are written. IPAdic's left
              and right context ids are the same for every entry.
  matrix.bin  the connection costs of matrix.def as little-endian i16,
              row = right id of the word before, column = left id of the
              word after (1316 x 1316).
  char.def    character categories (IPAdic's char.def without comments).
  unk.def     unknown-word entries: category<TAB>context id<TAB>cost.

crates/jp/dict/extra.tsv (municipal terms IPAdic lacks) is added by
jp::reading on top of this, not merged here. The IPAdic licence is in
crates/jp/dict/COPYING.ipadic.
"""
import glob
import os
import re
import struct
import subprocess
import sys
import tempfile

KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006\u30f6]")


def hiragana(s):
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in s)


def source_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    tmp = tempfile.mkdtemp()
    subprocess.run(["apt-get", "download", "mecab-ipadic"], cwd=tmp, check=True)
    deb = glob.glob(os.path.join(tmp, "mecab-ipadic_*.deb"))[0]
    subprocess.run(["dpkg", "-x", deb, os.path.join(tmp, "x")], check=True)
    return os.path.join(tmp, "x/usr/share/mecab/dic/ipadic")


def read(src, name):
    with open(os.path.join(src, name), encoding="euc-jp") as f:
        return f.read()


def main():
    src = source_dir()
    out = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "crates/jp/dict/ipadic"))
    os.makedirs(out, exist_ok=True)

    best = {}
    for path in sorted(glob.glob(os.path.join(src, "*.csv"))):
        with open(path, encoding="euc-jp", errors="replace") as f:
            for line in f:
                p = line.rstrip("\n").split(",")
                if len(p) < 12:
                    continue
                surface, left, right, cost = p[0], int(p[1]), int(p[2]), int(p[3])
                assert left == right, line
                reading = hiragana(p[11]) if p[11] != "*" and KANJI.search(surface) else ""
                key = (surface, left)
                if key not in best or best[key][0] > cost:
                    best[key] = (cost, reading)
    with open(os.path.join(out, "lex.tsv"), "w", encoding="utf-8") as f:
        for (surface, cid) in sorted(best):
            cost, reading = best[(surface, cid)]
            f.write(f"{surface}\t{cid}\t{cost}\t{reading}\n")

    lines = read(src, "matrix.def").split("\n")
    rows, cols = map(int, lines[0].split())
    costs = [0] * (rows * cols)
    for line in lines[1:]:
        if line.strip():
            r, c, v = map(int, line.split())
            costs[r * cols + c] = v
    with open(os.path.join(out, "matrix.bin"), "wb") as f:
        f.write(struct.pack(f"<{len(costs)}h", *costs))
    assert rows == cols == 1316, "jp::reading expects 1316 context ids"

    with open(os.path.join(out, "char.def"), "w", encoding="utf-8") as f:
        for line in read(src, "char.def").split("\n"):
            line = line.split("#")[0].strip()
            if line:
                f.write(" ".join(line.split()) + "\n")
    with open(os.path.join(out, "unk.def"), "w", encoding="utf-8") as f:
        for line in read(src, "unk.def").split("\n"):
            p = line.split(",")
            if len(p) > 4:
                f.write(f"{p[0]}\t{p[1]}\t{p[3]}\n")
    print(f"{len(best)} words, {rows}x{cols} connections -> {out}")


if __name__ == "__main__":
    main()
