"""Open311 GeoReport v2 at /open311/v2/ (the one place whose errors follow an outside standard)."""
