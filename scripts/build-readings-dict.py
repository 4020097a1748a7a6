#!/usr/bin/env python3
"""Builds crates/jp/dict/readings.tsv, the kanji -> reading dictionary behind
jp::reading (search by reading, furigana), from IPAdic as Debian ships it.

    scripts/build-readings-dict.py            # downloads mecab-ipadic with apt-get
    scripts/build-readings-dict.py DIR        # or reads the CSVs from DIR

For each surface form that contains a kanji and does not start with hiragana,
it keeps the reading of the lowest-cost entry (the most common one), written
in hiragana. Person and organisation names are left out (Noun.name,
Noun.org): they are many, ambiguous, and not what residents search for.
crates/jp/dict/extra.tsv (municipal terms and readings IPAdic lacks or gets
wrong) is applied by jp::reading on top of this file, not merged here.
The IPAdic licence is in crates/jp/dict/COPYING.ipadic.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006\u30f6]")
SKIP = {"Noun.name.csv", "Noun.org.csv"}


def hiragana(s):
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in s)


def csv_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    tmp = tempfile.mkdtemp()
    subprocess.run(["apt-get", "download", "mecab-ipadic"], cwd=tmp, check=True)
    deb = glob.glob(os.path.join(tmp, "mecab-ipadic_*.deb"))[0]
    subprocess.run(["dpkg", "-x", deb, os.path.join(tmp, "x")], check=True)
    return os.path.join(tmp, "x/usr/share/mecab/dic/ipadic")


def main():
    src = csv_dir()
    best = {}
    for path in sorted(glob.glob(os.path.join(src, "*.csv"))):
        if os.path.basename(path) in SKIP:
            continue
        with open(path, encoding="euc-jp", errors="replace") as f:
            for line in f:
                p = line.rstrip("\n").split(",")
                if len(p) < 12 or p[11] == "*":
                    continue
                surface, cost, reading = p[0], int(p[3]), hiragana(p[11])
                if not KANJI.search(surface) or "\u3041" <= surface[0] <= "\u3096":
                    continue
                if surface not in best or best[surface][0] > cost:
                    best[surface] = (cost, reading)
    out = os.path.join(os.path.dirname(__file__), "..", "crates/jp/dict/readings.tsv")
    with open(out, "w", encoding="utf-8") as f:
        for surface in sorted(best):
            f.write(f"{surface}\t{best[surface][1]}\n")
    print(f"{len(best)} entries -> {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
