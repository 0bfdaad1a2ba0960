"""Generated PlanetScope / Sentinel-2 collections on real label sites, for tests, demos and the
quickstart.
"""
