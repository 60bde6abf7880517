"""Synthetic, deterministic data: users, zones and their hourly presence.

Nothing here is random across runs: every figure derives from a hash of its inputs,
so a notebook's output is the same on every machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# ---- users -------------------------------------------------------------------------

_KNOWN_USERS: Mapping[str, str] = {
    "demo": "Demo User",
    "alice": "Alice Martin",
    "bob": "Bob Durand",
}

DEFAULT_USER = "demo"


def user_profile(username: str) -> dict[str, str]:
    """Claims of a synthetic user: any user name signs in, with a stable ``sub``."""
    sub = "sbx-" + hashlib.sha256(username.encode()).hexdigest()[:20]
    name = _KNOWN_USERS.get(username, username)
    slug = "".join(ch if ch.isalnum() else "." for ch in username.lower()).strip(".") or "user"
    if username.startswith("+"):  # a phone (CIBA) subscriber: no name shows the whole number
        name, slug = f"Subscriber ••{username[-2:]}", f"subscriber.{username[-2:]}"
    return {"sub": sub, "name": name, "email": f"{slug}@sandbox.orange-nb.invalid"}


# ---- zones -------------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    """An invented place (the ids say so)."""

    id: str
    name: str
    kind: str
    lat: float
    lon: float
    residents: int

    def as_json(self) -> dict[str, object]:
        """The zone as the API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "lat": self.lat,
            "lon": self.lon,
            "residents": self.residents,
            "synthetic": True,
        }


ZONES: tuple[Zone, ...] = (
    Zone("zone-01", "Montclair-sur-Vive (centre)", "city-centre", 45.7640, 4.8357, 5200),
    Zone("zone-02", "Gare de Belval", "station", 48.8443, 2.3744, 900),
    Zone("zone-03", "Plage des Oyats", "beach", 43.6959, 7.2712, 300),
    Zone("zone-04", "Stade du Verger", "stadium", 47.2184, -1.5536, 150),
    Zone("zone-05", "Parc de la Brume", "park", 48.5734, 7.7521, 400),
    Zone("zone-06", "Aéroport de Saint-Aubin-des-Landes", "airport", 43.6291, 1.3638, 200),
    Zone("zone-07", "Marché de Port-Lavandin", "market", 43.2965, 5.3698, 1100),
    Zone("zone-08", "Campus des Hauts-de-Sorel", "campus", 50.6292, 3.0573, 2500),
    Zone("zone-09", "Les Quais d'Ardenne", "city-centre", 44.8378, -0.5792, 3800),
    Zone("zone-10", "Station des Neiges du Col Blanc", "ski-resort", 45.9237, 6.8694, 600),
    Zone("zone-11", "Zone d'activités de Valmorin", "business-park", 49.4431, 1.0993, 350),
    Zone("zone-12", "Vieux-Port de Kerbrume", "harbour", 47.6582, -2.7608, 1500),
)
ZONES_BY_ID: Mapping[str, Zone] = {zone.id: zone for zone in ZONES}

# Relative presence by hour of day (0-23) for each kind of place.
_OFFICE = (2, 1, 1, 1, 1, 2, 5, 12, 20, 22, 22, 20, 18, 20, 22, 22, 20, 14, 8, 5, 4, 3, 3, 2)
_LEISURE = (3, 2, 1, 1, 1, 1, 2, 4, 7, 11, 15, 18, 20, 21, 21, 20, 19, 17, 14, 11, 8, 6, 5, 4)
_TRANSIT = (2, 1, 1, 1, 2, 6, 15, 22, 20, 14, 12, 13, 14, 13, 13, 15, 19, 22, 18, 12, 8, 6, 4, 3)
_NIGHT = (12, 8, 5, 3, 2, 2, 3, 6, 9, 11, 13, 15, 17, 16, 15, 15, 16, 18, 20, 21, 20, 18, 16, 14)
_HOURLY: Mapping[str, tuple[int, ...]] = {
    "city-centre": _NIGHT,
    "station": _TRANSIT,
    "airport": _TRANSIT,
    "beach": _LEISURE,
    "park": _LEISURE,
    "stadium": _LEISURE,
    "market": (1, 1, 1, 1, 2, 5, 10, 16, 20, 22, 22, 20, 14, 8, 5, 4, 4, 4, 3, 2, 2, 1, 1, 1),
    "campus": _OFFICE,
    "business-park": _OFFICE,
    "ski-resort": _LEISURE,
    "harbour": _NIGHT,
}
_WORKDAY_KINDS = frozenset({"campus", "business-park", "station"})
_SUMMER_KINDS = frozenset({"beach", "harbour", "park"})
_TOURIST_SHARE: Mapping[str, float] = {
    "beach": 0.6,
    "airport": 0.5,
    "ski-resort": 0.7,
    "harbour": 0.45,
    "market": 0.3,
    "stadium": 0.25,
    "city-centre": 0.3,
}


def _season(kind: str, month: int) -> float:
    if kind in _SUMMER_KINDS:
        return 1.8 if month in (7, 8) else 1.3 if month in (6, 9) else 0.7
    if kind == "ski-resort":
        return 2.0 if month in (12, 1, 2, 3) else 0.4
    return 1.0


def presence_record(zone: Zone, hour: datetime) -> dict[str, object]:
    """The presence figures of ``zone`` for the hour starting at ``hour`` (UTC)."""
    weekend = hour.weekday() >= 5
    week = (0.35 if weekend else 1.1) if zone.kind in _WORKDAY_KINDS else (1.3 if weekend else 1.0)
    shape = _HOURLY.get(zone.kind, _LEISURE)[hour.hour] / 20
    stamp = hour.strftime("%Y-%m-%dT%H:%M:%SZ")
    noise = 0.85 + 0.3 * _unit(zone.id, stamp)
    visitors = round(zone.residents * 0.9 * shape * week * _season(zone.kind, hour.month) * noise)
    share = _TOURIST_SHARE.get(zone.kind, 0.1) * (0.8 + 0.4 * _unit(zone.id, stamp, "t"))
    tourists = round(visitors * min(share, 0.95))
    return {
        "timestamp": stamp,
        "zone_id": zone.id,
        "visitors": visitors,
        "residents": visitors - tourists,
        "tourists": tourists,
        "dwell_minutes": round(20 + 100 * shape * (0.8 + 0.4 * _unit(zone.id, stamp, "d"))),
    }


def presence_page(zone: Zone, start: date, offset: int, limit: int) -> list[dict[str, object]]:
    """Hourly records ``offset`` to ``offset + limit`` counted from ``start`` 00:00 UTC."""
    origin = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
    return [
        presence_record(zone, origin + timedelta(hours=i)) for i in range(offset, offset + limit)
    ]


# ---- identity (CAMARA-style KYC match) -----------------------------------------------

KYC_FIELDS = (
    "phoneNumber",
    "givenName",
    "familyName",
    "name",
    "birthdate",
    "email",
    "postalCode",
    "locality",
    "country",
)


def kyc_reference(username: str) -> dict[str, str]:
    """The synthetic identity a KYC match compares against."""
    profile = user_profile(username)
    given = profile["name"].split(" ")[0]
    family = " ".join(profile["name"].split(" ")[1:]) or "Sandbox"
    digits = str(int(profile["sub"][4:12], 16) % 10**8).zfill(8)
    return {
        "phoneNumber": "+336" + digits,
        "givenName": given,
        "familyName": family,
        "name": f"{given} {family}",
        "birthdate": "1990-01-01",
        "email": profile["email"],
        "postalCode": "75000",
        "locality": "Montclair-sur-Vive",
        "country": "FR",
    }
