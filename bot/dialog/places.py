"""Nearest care centers to a shared location."""

from __future__ import annotations

import math

from bot.content.catalog import Catalog
from bot.dialog.events import VenueReply
from bot.i18n import Gettext
from bot.languages import Lang

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance: good to a few metres at these distances."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest_places(
    catalog: Catalog, latitude: float, longitude: float, lang: Lang, _: Gettext
) -> list[VenueReply]:
    """Every place as a venue, nearest first; an unknown address says so, never guesses."""
    venues = []
    for place in catalog.places.values():
        address = place.address or _("{town} (exact address not confirmed)").format(
            town=place.town
        )
        venues.append(VenueReply(
            name=place.name[lang],
            address=address,
            latitude=place.latitude,
            longitude=place.longitude,
            distance_km=distance_km(latitude, longitude, place.latitude, place.longitude),
        ))  # fmt: skip
    return sorted(venues, key=lambda v: v.distance_km or 0.0)
