#!/usr/bin/env python3
"""Consistency check for the demo municipality data in data/demo/<code>/.

Usage: python3 data/demo/check_demo.py [DIR ...]
With no arguments every subdirectory of data/demo holding a tenant.json is
checked. Exits non-zero and prints one line per problem when something is
wrong. Standard library only, so it runs anywhere without setup.
"""

import json
import re
import sys
from pathlib import Path

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEPT_CODE = re.compile(r"^[a-z0-9-]+$")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
OPTION_VALUE = re.compile(r"^[a-z0-9_]+$")
PHONE = re.compile(r"^0\d{1,4}-\d{1,4}-\d{3,4}$")

TENANT_KEYS = {"code", "name", "prefecture", "address", "phone", "website", "departments", "counters"}
TENANT_OPTIONAL = {"kpi_targets", "life_events"}
DEPT_KEYS = {"code", "name"}
DEPT_OPTIONAL = {"phone", "location"}  # left out where not known: never invented
BUNDLE_KEYS = {"code", "name", "description", "questions", "items"}
QUESTION_KEYS = {"code", "text", "hint"}
ITEM_KEYS = {"procedure", "when", "unless", "counter"}
COUNTER_KEYS = {"code", "name", "department"}
PROC_KEYS = {
    "id", "name", "description", "department", "life_events", "channels", "identity_level",
    "fee_yen", "documents", "processing_time", "legal_basis", "form",
}
LIFE_EVENTS = {
    "birth", "childcare", "moving", "marriage", "divorce", "death", "employment", "retirement",
    "elderly-care", "disability", "housing", "pets", "waste", "business", "tax", "health", "digital",
}
CHANNELS = {"online", "counter", "both"}
IDENTITY = {"none", "signed_in", "my_number_card"}
FIELD_TYPES = {
    "text", "textarea", "number", "choice", "checkbox", "date", "email", "file", "person_name",
    "postal_code", "phone", "my_number", "corporate_number", "local_gov_code", "fiscal_year", "yen",
}
FIELD_KEYS = {
    "name", "type", "label", "hint", "required", "max_length", "min", "max", "options", "accept",
    "max_bytes", "show_if", "prefill",
}
MIME = {"application/pdf", "image/jpeg", "image/png"}
MIN_PROCEDURES = 32
ONLINE_SHARE = (0.55, 0.70)


def local_gov_code_ok(code):
    """全国地方公共団体コード: weights 6,5,4,3,2; CD = last digit of 11 - (sum mod 11)."""
    if not re.fullmatch(r"\d{6}", code):
        return False
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2)))
    return (11 - total % 11) % 10 == int(code[5])


class Checker:
    def __init__(self):
        self.problems = []
        self.counters = {}

    def err(self, where, msg):
        self.problems.append(f"{where}: {msg}")

    def localized(self, where, value):
        if not isinstance(value, dict) or set(value) != {"ja", "en"}:
            self.err(where, f"must be an object with exactly 'ja' and 'en', got {value!r}")
            return
        for lang in ("ja", "en"):
            if not isinstance(value[lang], str) or not value[lang].strip():
                self.err(where, f"'{lang}' must be a non-empty string")

    def tenant(self, path, t):
        w = str(path)
        if not TENANT_KEYS <= set(t) <= TENANT_KEYS | TENANT_OPTIONAL:
            self.err(w, f"keys must be {sorted(TENANT_KEYS)} (and optionally {sorted(TENANT_OPTIONAL)}), got {sorted(t)}")
        code = t.get("code", "")
        if path.parent.name != code:
            self.err(w, f"code {code!r} does not match directory {path.parent.name!r}")
        if not local_gov_code_ok(code):
            self.err(w, f"code {code!r} fails the local government code check digit")
        for key in ("name", "prefecture", "address"):
            self.localized(f"{w} {key}", t.get(key))
        if not PHONE.match(t.get("phone", "")):
            self.err(w, f"phone {t.get('phone')!r} is not a hyphenated Japanese number")
        if not str(t.get("website", "")).startswith("https://"):
            self.err(w, "website must be an https URL")
        depts = set()
        for i, d in enumerate(t.get("departments", [])):
            dw = f"{w} departments[{i}]"
            if not DEPT_KEYS <= set(d) <= DEPT_KEYS | DEPT_OPTIONAL:
                self.err(dw, f"keys must be {sorted(DEPT_KEYS)} and optionally {sorted(DEPT_OPTIONAL)}, got {sorted(d)}")
            c = d.get("code", "")
            if not DEPT_CODE.match(c):
                self.err(dw, f"code {c!r} must be lowercase ascii, digits, hyphens")
            if c in depts:
                self.err(dw, f"duplicate department code {c!r}")
            depts.add(c)
            self.localized(f"{dw} name", d.get("name"))
            if "location" in d:
                self.localized(f"{dw} location", d.get("location"))
            if "phone" in d and not PHONE.match(d.get("phone", "")):
                self.err(dw, f"phone {d.get('phone')!r} is not a hyphenated Japanese number")
        counters = set()
        for i, c in enumerate(t.get("counters", [])):
            cw = f"{w} counters[{i}]"
            if set(c) != COUNTER_KEYS:
                self.err(cw, f"keys must be exactly {sorted(COUNTER_KEYS)}, got {sorted(c)}")
            if c.get("code") in counters:
                self.err(cw, f"duplicate counter code {c.get('code')!r}")
            counters.add(c.get("code"))
            self.localized(f"{cw} name", c.get("name"))
            if c.get("department") not in depts:
                self.err(cw, f"unknown department {c.get('department')!r}")
        self.counters = {c.get("code"): c.get("department") for c in t.get("counters", [])}
        return depts

    def life_events(self, path, t, procs):
        """Bundles: unique codes, questions used and defined, procedures in the catalogue."""
        w = str(path)
        depts_of = {p.get("id"): p.get("department") for p in procs if isinstance(p, dict)}
        codes = set()
        for i, b in enumerate(t.get("life_events", [])):
            bw = f"{w} life_events[{i}] {b.get('code', '?')}"
            if not BUNDLE_KEYS - {"description"} <= set(b) <= BUNDLE_KEYS:
                self.err(bw, f"keys must be within {sorted(BUNDLE_KEYS)}, got {sorted(b)}")
            if not SLUG.match(str(b.get("code", ""))) or b.get("code") in codes:
                self.err(bw, "code must be a unique slug")
            codes.add(b.get("code"))
            self.localized(f"{bw} name", b.get("name"))
            if "description" in b:
                self.localized(f"{bw} description", b["description"])
            questions = set()
            for q in b.get("questions", []):
                if not set(q) <= QUESTION_KEYS or not SNAKE.match(str(q.get("code", ""))) or q.get("code") in questions:
                    self.err(bw, f"bad or duplicate question {q.get('code')!r}")
                questions.add(q.get("code"))
                self.localized(f"{bw} question {q.get('code')} text", q.get("text"))
                if "hint" in q:
                    self.localized(f"{bw} question {q.get('code')} hint", q["hint"])
            used = set()
            for item in b.get("items", []):
                pid = item.get("procedure")
                if not set(item) <= ITEM_KEYS:
                    self.err(bw, f"item {pid!r}: unknown keys {sorted(set(item) - ITEM_KEYS)}")
                if pid not in depts_of:
                    self.err(bw, f"item {pid!r} is not in procedures.json")
                for k in ("when", "unless"):
                    if k in item:
                        used.add(item[k])
                        if item[k] not in questions:
                            self.err(bw, f"item {pid!r}: {k} {item[k]!r} is not a question")
                if "counter" in item and self.counters.get(item["counter"]) != depts_of.get(pid):
                    self.err(bw, f"item {pid!r}: counter {item['counter']!r} is not a counter of its department")
            for q in questions - used:
                self.err(bw, f"question {q!r} is used by no item")

    def field(self, where, f, earlier):
        extra = set(f) - FIELD_KEYS
        if extra:
            self.err(where, f"unknown keys {sorted(extra)}")
        name, ftype = f.get("name", ""), f.get("type")
        if not SNAKE.match(name):
            self.err(where, f"name {name!r} must be lowercase snake_case")
        if name in earlier:
            self.err(where, f"duplicate field name {name!r}")
        if ftype not in FIELD_TYPES:
            self.err(where, f"unknown type {ftype!r}")
        self.localized(f"{where} label", f.get("label"))
        if "hint" in f:
            self.localized(f"{where} hint", f["hint"])
        if "required" in f and not isinstance(f["required"], bool):
            self.err(where, "required must be a boolean")
        if "max_length" in f:
            if ftype not in ("text", "textarea"):
                self.err(where, "max_length only applies to text and textarea")
            if not isinstance(f["max_length"], int) or f["max_length"] < 1:
                self.err(where, "max_length must be a positive integer")
        for key in ("min", "max"):
            if key in f:
                if ftype not in ("number", "yen"):
                    self.err(where, f"{key} only applies to number and yen")
                if not isinstance(f[key], int) or isinstance(f[key], bool):
                    self.err(where, f"{key} must be an integer")
        if isinstance(f.get("min"), int) and isinstance(f.get("max"), int) and f["min"] > f["max"]:
            self.err(where, "min is greater than max")
        if ftype == "choice":
            opts = f.get("options")
            if not isinstance(opts, list) or len(opts) < 2:
                self.err(where, "choice needs at least 2 options")
            else:
                values = set()
                for j, o in enumerate(opts):
                    if set(o) != {"value", "label"}:
                        self.err(f"{where} options[{j}]", "must have exactly 'value' and 'label'")
                    v = o.get("value", "")
                    if not OPTION_VALUE.match(v):
                        self.err(f"{where} options[{j}]", f"value {v!r} must be ascii lowercase/digits/_")
                    if v in values:
                        self.err(f"{where} options[{j}]", f"duplicate value {v!r}")
                    values.add(v)
                    self.localized(f"{where} options[{j}] label", o.get("label"))
        elif "options" in f:
            self.err(where, "options only applies to choice")
        if ftype == "file":
            accept = f.get("accept")
            if not isinstance(accept, list) or not accept or not set(accept) <= MIME:
                self.err(where, f"accept must be a non-empty subset of {sorted(MIME)}")
            if not isinstance(f.get("max_bytes"), int) or f["max_bytes"] <= 0:
                self.err(where, "file needs a positive integer max_bytes")
        else:
            for key in ("accept", "max_bytes"):
                if key in f:
                    self.err(where, f"{key} only applies to file")
        if "show_if" in f:
            cond = f["show_if"]
            if not isinstance(cond, dict) or set(cond) != {"field", "equals"}:
                self.err(where, "show_if must be {field, equals}")
            else:
                target = earlier.get(cond["field"])
                if target is None:
                    self.err(where, f"show_if refers to {cond['field']!r}, which is not an earlier field")
                elif target.get("type") == "checkbox":
                    if cond["equals"] != "true":
                        self.err(where, "show_if on a checkbox must equal \"true\"")
                elif target.get("type") == "choice":
                    values = {o.get("value") for o in target.get("options", [])}
                    if cond["equals"] not in values:
                        self.err(where, f"show_if value {cond['equals']!r} is not an option of {cond['field']!r}")

    def procedures(self, path, procs, depts):
        w = str(path)
        if not isinstance(procs, list):
            self.err(w, "must be a JSON array")
            return
        if len(procs) < MIN_PROCEDURES:
            self.err(w, f"only {len(procs)} procedures, need at least {MIN_PROCEDURES}")
        ids = set()
        online = 0
        for i, p in enumerate(procs):
            pid = p.get("id", f"#{i}")
            pw = f"{w} [{pid}]"
            if set(p) != PROC_KEYS:
                self.err(pw, f"keys must be exactly {sorted(PROC_KEYS)}, got {sorted(p)}")
            if not SLUG.match(str(p.get("id", ""))):
                self.err(pw, "id must be a slug (lowercase ascii, digits, hyphens)")
            if pid in ids:
                self.err(pw, "duplicate id")
            ids.add(pid)
            for key in ("name", "description", "processing_time"):
                self.localized(f"{pw} {key}", p.get(key))
            for j, d in enumerate(p.get("documents", [])):
                self.localized(f"{pw} documents[{j}]", d)
            if p.get("department") not in depts:
                self.err(pw, f"unknown department {p.get('department')!r}")
            events = p.get("life_events", [])
            if not isinstance(events, list) or not set(events) <= LIFE_EVENTS or len(set(events)) != len(events):
                self.err(pw, f"bad life_events {events!r}")
            channels = p.get("channels")
            if channels not in CHANNELS:
                self.err(pw, f"bad channels {channels!r}")
            identity = p.get("identity_level")
            if identity not in IDENTITY:
                self.err(pw, f"bad identity_level {identity!r}")
            fee = p.get("fee_yen")
            if not isinstance(fee, int) or isinstance(fee, bool) or fee < 0:
                self.err(pw, "fee_yen must be a non-negative integer")
            if not isinstance(p.get("legal_basis"), str) or not p["legal_basis"].strip():
                self.err(pw, "legal_basis must be a non-empty string")
            fields = p.get("form", {}).get("fields")
            if not isinstance(fields, list) or set(p.get("form", {})) != {"fields"}:
                self.err(pw, "form must be {\"fields\": [...]}")
                continue
            if channels in ("online", "both"):
                online += 1
                if not 3 <= len(fields) <= 10:
                    self.err(pw, f"online/both procedure needs 3-10 fields, has {len(fields)}")
            earlier = {}
            for j, f in enumerate(fields):
                self.field(f"{pw} field[{j}] {f.get('name', '?')}", f, earlier)
                earlier[f.get("name")] = f
            if any(f.get("type") == "my_number" for f in fields) and identity != "my_number_card":
                self.err(pw, "a form asking for a My Number must require identity_level my_number_card")
        share = online / len(procs) if procs else 0
        lo, hi = ONLINE_SHARE
        if not lo <= share <= hi:
            self.err(w, f"online/both share {share:.0%} outside {lo:.0%}-{hi:.0%}")
        return len(procs), online


def main(argv):
    base = Path(__file__).resolve().parent
    dirs = [Path(a) for a in argv] or sorted(d for d in base.iterdir() if (d / "tenant.json").is_file())
    checker = Checker()
    for d in dirs:
        try:
            tenant = json.loads((d / "tenant.json").read_text(encoding="utf-8"))
            procs = json.loads((d / "procedures.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            checker.err(str(d), f"cannot read: {e}")
            continue
        depts = checker.tenant(d / "tenant.json", tenant)
        counts = checker.procedures(d / "procedures.json", procs, depts)
        checker.life_events(d / "tenant.json", tenant, procs)
        if counts:
            total, online = counts
            print(f"{d.name} {tenant['name']['ja']}: {len(depts)} departments, "
                  f"{len(tenant['counters'])} counters, {total} procedures, {online} online/both "
                  f"({online / total:.0%})")
    for p in checker.problems:
        print("PROBLEM", p)
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
