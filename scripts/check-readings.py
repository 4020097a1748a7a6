#!/usr/bin/env python3
"""Checks crates/jp/tests/fixtures/demo-readings.tsv against MeCab with
Debian's IPAdic (packages mecab and mecab-ipadic-utf8), an analyser
independent of jp::reading: every reading in the fixture must be MeCab's,
except on rows whose last column gives the reason MeCab reads otherwise
(place: a city's own reading; counter: read with its number; weekday: a
day standing alone; word: a term IPAdic reads wrongly). A row marked so
must really differ from MeCab, so the marks stay true.

    scripts/check-readings.py            # exits 1 and lists every problem
"""
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
FIXTURE = os.path.join(ROOT, "crates/jp/tests/fixtures/demo-readings.tsv")
DICDIR = "/var/lib/mecab/dic/ipadic-utf8"
REASONS = ("place:", "counter:", "weekday:", "word:")
MIN_ROWS = 300


def hiragana(s):
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in s)


def main():
    rows = []
    with open(FIXTURE, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 4:
                sys.exit(f"{FIXTURE}:{n}: 4 columns expected, got {len(cols)}")
            rows.append((n, *cols))
    text = "".join(r[1] + "\n" for r in rows)
    out = subprocess.run(
        ["mecab", "-d", DICDIR, "-Oyomi"], input=text, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    problems = []
    for (n, phrase, reading, _city, reason), mecab in zip(rows, out):
        mecab = hiragana(mecab)
        if reason and not reason.startswith(REASONS):
            problems.append(f"line {n} {phrase}: reason must start with one of {REASONS}")
        elif not reason and mecab != reading:
            problems.append(f"line {n} {phrase}: fixture {reading}, MeCab {mecab} (no reason given)")
        elif reason and mecab == reading:
            problems.append(f"line {n} {phrase}: marked '{reason}' but MeCab agrees")
    if len(rows) < MIN_ROWS:
        problems.append(f"only {len(rows)} rows, at least {MIN_ROWS} wanted")
    for p in problems:
        print(p)
    marked = sum(1 for r in rows if r[4])
    print(f"readings fixture: {len(rows)} rows, {len(rows) - marked} as MeCab reads them, "
          f"{marked} with a reason, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
