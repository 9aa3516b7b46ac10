"""The aiohttp server: viewer, bundle assets, JSON API, rooms and sensor feeds."""
