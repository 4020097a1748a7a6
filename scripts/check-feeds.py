#!/usr/bin/env python3
"""Reads a feed with a real, independent parser and prints what it read
as JSON, for the feed tests (crates/server/tests/it/channels.rs) to
compare exactly: an Atom feed with feedparser, an iCalendar file with
icalendar (both from PyPI, pinned in scripts/test's virtualenv).

    check-feeds.py atom FILE
    check-feeds.py ics FILE

Exits non-zero if the parser finds the document malformed."""
import json
import sys


def atom(data: bytes) -> dict:
    import feedparser

    f = feedparser.parse(data)
    if f.bozo:
        sys.exit(f"not well-formed: {f.bozo_exception!r}")
    if f.version != "atom10":
        sys.exit(f"not Atom 1.0: {f.version!r}")
    return {
        "id": f.feed.id,
        "title": f.feed.title,
        "language": f.feed.get("language"),
        "updated": f.feed.updated,
        "author": f.feed.author,
        "links": sorted((l.rel, l.href) for l in f.feed.links),
        "entries": [
            {
                "id": e.id,
                "title": e.title,
                "updated": e.updated,
                "published": e.published,
                "content": [(c.type, c.language, c.value) for c in e.content],
            }
            for e in f.entries
        ],
    }


def ics(data: bytes) -> dict:
    import icalendar

    cal = icalendar.Calendar.from_ical(data)
    errors = [(c.name, e) for c in cal.walk() for e in getattr(c, "errors", [])]
    if errors:
        sys.exit(f"iCalendar errors: {errors!r}")
    events = []
    for ev in cal.walk("VEVENT"):
        def when(name):
            v = ev.get(name)
            return None if v is None else v.dt.isoformat()

        events.append(
            {
                "uid": str(ev["UID"]),
                "dtstamp": when("DTSTAMP"),
                "dtstart": when("DTSTART"),
                "dtstart_tzid": ev["DTSTART"].params.get("TZID"),
                "dtend": when("DTEND"),
                "summary": str(ev["SUMMARY"]),
                "location": str(ev["LOCATION"]) if "LOCATION" in ev else None,
                "description": str(ev["DESCRIPTION"]),
            }
        )
    tz = [str(t["TZID"]) for t in cal.walk("VTIMEZONE")]
    return {
        "version": str(cal["VERSION"]),
        "prodid": str(cal["PRODID"]),
        "timezones": tz,
        "events": events,
    }


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    out = atom(data) if kind == "atom" else ics(data)
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
