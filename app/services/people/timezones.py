"""A client's own time zone: the owner's choice, else their number's area code, else the org's."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import geocoder
from phonenumbers import timezone as number_zones

from app.models import Client, Org

_UNKNOWN = "Etc/Unknown"


def zones_of_number(e164: str | None) -> list[str]:
    """Every zone of the number's area (empty when the number says nothing)."""
    try:
        parsed = phonenumbers.parse(e164 or "")
    except phonenumbers.NumberParseException:
        return []
    return [z for z in number_zones.time_zones_for_number(parsed) if z != _UNKNOWN and _is_zone(z)]


@lru_cache(maxsize=4096)
def zone_of_number(e164: str | None, org_zone: str) -> str | None:
    """The zone of a number's area (their area code is presumed to be where they are).

    Some areas span zones: the org's zone when it is one of them, else the first. None when
    the number says nothing (not a number, or a country-wide answer phonenumbers cannot split).
    """
    zones = zones_of_number(e164)
    if not zones:
        return None
    return org_zone if org_zone in zones else zones[0]


@lru_cache(maxsize=4096)
def state_of_number(e164: str | None) -> str | None:
    """The US state of a number's area code ("Florida"), None outside the US or when unknown.
    phonenumbers' geocoder names a state ("Florida") or a city in one ("Miami, FL"). Cached per
    number: a pure function of it, and every automation run asks (parsing and geocoding cost
    more than the run's database reads)."""
    try:
        parsed = phonenumbers.parse(e164 or "")
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(parsed) != "US":
        return None
    place = geocoder.description_for_number(parsed, "en")
    if ", " in place:
        return _STATES.get(place.rsplit(", ", 1)[1])
    return place or None


_STATES = {"FL": "Florida", "OK": "Oklahoma"}  # the states whose own rule is stricter (automations.runs)


def client_zone_name(client: Client | None, org: Org) -> str:
    """Where "8 p.m." is judged for this client (DESIGN "Automations": quiet hours)."""
    if client is not None and client.timezone and _is_zone(client.timezone):
        return client.timezone
    if client is not None:
        found = zone_of_number(client.phone_e164, org.timezone)
        if found and _is_zone(found):
            return found
    return org.timezone


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
