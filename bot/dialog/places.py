"""The places nearest to a shared location: only open ones, only within reach, and a place
known only to its town is never presented as a precise map pin."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.content.catalog import Catalog, Place

EARTH_RADIUS_KM = 6371.0
# Farther than this, a place is not "near" in any useful sense (Tapachula to Huixtla is ~40 km,
# to Tuxtla Gutiérrez ~250 km): the person is told none is close instead of a 9,000 km answer.
REACH_KM = 150.0


@dataclass(frozen=True)
class Nearby:
    place: Place
    distance_km: float

    @property
    def exact(self) -> bool:
        return self.place.precision == "exact"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance: good to a few metres at these distances."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def is_on_earth(latitude: float, longitude: float) -> bool:
    """Telegram sends real coordinates; a forged or broken update may not."""
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    )


def nearest_places(catalog: Catalog, latitude: float, longitude: float) -> list[Nearby]:
    """Open places within reach, nearest first."""
    found = [
        Nearby(place, distance_km(latitude, longitude, place.latitude, place.longitude))
        for place in catalog.places.values()
        if place.status == "open"
    ]
    return sorted((n for n in found if n.distance_km <= REACH_KM), key=lambda n: n.distance_km)
