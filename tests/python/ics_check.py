"""Reads an iCalendar file from standard input with the `icalendar` package (not the library that
wrote it) and prints what a calendar program would take from it, as JSON. Fails loudly on what
RFC 5545 forbids: bare LF line endings, lines over 75 octets, a TZID without its VTIMEZONE."""

import json
import sys
from datetime import timezone

import icalendar

raw = sys.stdin.buffer.read()
lines = raw.split(b"\r\n")
assert lines[-1] == b"", "the file ends with CRLF"
for line in lines:
    assert b"\n" not in line and b"\r" not in line, f"bare line break in {line!r}"
    assert len(line) <= 75, f"line over 75 octets: {line!r}"

calendar = icalendar.Calendar.from_ical(raw)
assert calendar.name == "VCALENDAR"
for required in ("VERSION", "PRODID"):
    assert required in calendar, f"{required} missing"
zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in calendar.walk("VTIMEZONE")}


def instant(event, key):
    """The UTC instant of DTSTART/DTEND, resolved through the file's own VTIMEZONE."""
    prop = event[key]
    tzid = prop.params.get("TZID")
    value = prop.dt
    if tzid is not None:
        assert tzid in zones, f"{key} names {tzid}, which has no VTIMEZONE"
        value = value.replace(tzinfo=zones[tzid])
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), tzid


events = []
for event in calendar.walk("VEVENT"):
    for required in ("UID", "DTSTAMP", "DTSTART"):
        assert required in event, f"VEVENT without {required}"
    start, tzid = instant(event, "DTSTART")
    end, _ = instant(event, "DTEND")
    events.append(
        {
            "uid": str(event["UID"]),
            "sequence": int(event.get("SEQUENCE", 0)),
            "status": str(event.get("STATUS", "")),
            "start": start,
            "end": end,
            "tzid": tzid,
            "summary": str(event.get("SUMMARY", "")),
            "location": str(event.get("LOCATION", "")),
            "organizer": str(event.get("ORGANIZER", "")),
            "attendee": str(event.get("ATTENDEE", "")),
            # Each alarm's trigger, in seconds from the start (negative: before).
            "alarms": [int(alarm.decoded("TRIGGER").total_seconds()) for alarm in event.walk("VALARM")],
        }
    )
print(json.dumps({"method": str(calendar.get("METHOD", "")), "timezones": sorted(zones), "events": events}))
