"""Times as people read them: the store keeps UTC (`core.records.stamp`); everything shown is in the
candidate's zone (the machine's, or `INTERVIEWER_TZ`)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo


def local_zone() -> tzinfo:
    """The machine's time zone."""
    return datetime.now().astimezone().tzinfo or ZoneInfo("UTC")


def local(stamp: str, zone: tzinfo) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(zone)


def minutes(stamp: str, zone: tzinfo) -> str:
    """A stored timestamp to the minute in `zone`: "YYYY-MM-DD HH:MM"."""
    return f"{local(stamp, zone):%Y-%m-%d %H:%M}"


def day(stamp: str, zone: tzinfo) -> str:
    return f"{local(stamp, zone):%Y-%m-%d}"


def zone_name(zone: tzinfo, stamp: str | None = None) -> str:
    """The zone's short name at that moment (KST, UTC, CET), or its offset when it has none."""
    moment = local(stamp, zone) if stamp else datetime.now(zone)
    return moment.tzname() or f"{moment:%z}"
