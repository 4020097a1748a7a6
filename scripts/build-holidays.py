#!/usr/bin/env python3
"""Builds crates/jp/data/holidays.tsv, the national holidays of Japan
(国民の祝日, 振替休日 and 国民の休日 as the Cabinet Office 内閣府 lists them)
behind jp::calendar, from the PyPI package `holidays`.

    python3 -m venv /tmp/hv && /tmp/hv/bin/pip install holidays==0.108
    /tmp/hv/bin/python scripts/build-holidays.py [FIRST_YEAR LAST_YEAR]

One line per holiday: `YYYY-MM-DD<TAB>name`. The header records the source,
its version and the date the file was made. Holidays beyond the last year
are not known (the law may change them): jp::calendar says so rather than
guessing.
"""
import datetime
import os
import sys

import holidays

first, last = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) == 3 else (2020, 2030)
out = os.path.join(os.path.dirname(__file__), "..", "crates", "jp", "data", "holidays.tsv")
days = holidays.Japan(years=range(first, last + 1), language="ja")
with open(out, "w", encoding="utf-8") as f:
    f.write("# 国民の祝日・休日 (内閣府「国民の祝日について」) of Japan, one per line: date<TAB>name\n")
    f.write(f"# source: PyPI holidays {holidays.__version__} (holidays.Japan, language ja)\n")
    f.write(f"# generated: {datetime.date.today().isoformat()} by scripts/build-holidays.py\n")
    f.write(f"# years: {first}-{last}\n")
    for d, name in sorted(days.items()):
        f.write(f"{d.isoformat()}\t{name}\n")
print(f"{len(days)} holidays {first}-{last} -> {os.path.normpath(out)}")
