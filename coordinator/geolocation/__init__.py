"""Geolocation: the in-memory point locator behind the API, the CLI and case routing."""
