"""Points on Earth as WeChat gives them (GCJ-02 latitude and longitude, as texts) and distances between them."""

import math

EARTH_RADIUS_KM = 6371.0088


def geo_point(latitude, longitude):
    """``(latitude, longitude)`` as floats, or None when they are not a point on Earth (or are 0, 0: no fix)."""
    try:
        point = (float(latitude), float(longitude))
    except (TypeError, ValueError):
        return None
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180) or point == (0.0, 0.0):
        return None
    return point


def distance_km(lat1, lng1, lat2, lng2):
    """The great-circle distance in km between two points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
