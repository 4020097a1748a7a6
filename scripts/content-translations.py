#!/usr/bin/env python3
"""Round trip for translating a city's content (procedures, FAQ, tenant).

Every text in the content files is an object with a Japanese original
("ja") and its translations ("en", "ja-x-easy", "pt-BR", "vi", "zh-Hans",
"ko"). A translator works on a translation memory: one JSON object per
language mapping each Japanese original to its translation, so a sentence
used by both cities is translated once.

  content-translations.py extract LANG [DIR ...] > todo.json
      every Japanese original lacking LANG, with its English and where it
      is used (file and JSON pointer), as a list
  content-translations.py merge MEMORY.json LANG [DIR ...]
      fills LANG into every text whose Japanese the memory holds (a text
      that already has LANG keeps it) and rewrites the files in place
  content-translations.py missing LANG [DIR ...]
      prints how many texts still lack LANG per file; exit 1 if any

DIR defaults to every city under data/demo.
"""

import glob
import json
import os
import sys

FILES = ("procedures.json", "faq.json", "tenant.json")
ORDER = ("ja", "en", "ja-x-easy", "pt-BR", "vi", "zh-Hans", "ko")


def is_text(x):
    return (
        isinstance(x, dict)
        and isinstance(x.get("ja"), str)
        and all(isinstance(v, str) for v in x.values())
    )


def texts(node, pointer=""):
    """Yield (pointer, text object) for every localised text under node."""
    if is_text(node):
        yield pointer, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from texts(v, f"{pointer}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from texts(v, f"{pointer}/{i}")


def dirs(args):
    if args:
        return args
    root = os.path.join(os.path.dirname(__file__), "..", "data", "demo")
    return sorted(glob.glob(os.path.join(root, "*")))


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(path, data):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def reorder(text):
    known = [k for k in ORDER if k in text]
    rest = sorted(k for k in text if k not in ORDER)
    items = [(k, text[k]) for k in known + rest]
    text.clear()
    text.update(items)


def each_file(ds):
    for d in ds:
        for name in FILES:
            path = os.path.join(d, name)
            if os.path.exists(path):
                yield path


def extract(lang, ds):
    todo = {}
    for path in each_file(ds):
        rel = os.path.relpath(path)
        for pointer, t in texts(load(path)):
            if t.get(lang, "").strip():
                continue
            entry = todo.setdefault(
                t["ja"], {"ja": t["ja"], "en": t.get("en", ""), "used_in": []}
            )
            entry["used_in"].append(f"{rel}#{pointer}")
    json.dump(list(todo.values()), sys.stdout, ensure_ascii=False, indent=1)
    print()


def merge(memory_path, lang, ds):
    memory = load(memory_path)
    filled = 0
    for path in each_file(ds):
        data = load(path)
        changed = False
        for _, t in texts(data):
            if t.get(lang, "").strip():
                continue
            tr = memory.get(t["ja"], "").strip()
            if tr:
                t[lang] = tr
                reorder(t)
                filled += 1
                changed = True
        if changed:
            save(path, data)
    print(f"{lang}: filled {filled} texts", file=sys.stderr)


def missing(lang, ds):
    total = 0
    for path in each_file(ds):
        n = sum(1 for _, t in texts(load(path)) if not t.get(lang, "").strip())
        total += n
        print(f"{os.path.relpath(path)}: {n} without {lang}")
    return 1 if total else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "extract":
        extract(argv[1], dirs(argv[2:]))
        return 0
    if len(argv) >= 3 and argv[0] == "merge":
        merge(argv[1], argv[2], dirs(argv[3:]))
        return 0
    if len(argv) >= 2 and argv[0] == "missing":
        return missing(argv[1], dirs(argv[2:]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
