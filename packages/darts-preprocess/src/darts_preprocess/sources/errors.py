"""Errors raised while reading scenes and auxiliary data (subclasses of :mod:`darts_core.errors`)."""

from __future__ import annotations

from darts_core.errors import DartsError, DartsFileNotFoundError, DartsInputError


class SceneFileNotFoundError(DartsFileNotFoundError):
    """A scene folder lacks a file it needs (surface reflectance, udm2, SCL)."""


class SceneFormatError(DartsInputError):
    """A scene file exists but is not what darts expects (band count, size, transform, CRS)."""


class AuxDataMissingError(DartsFileNotFoundError):
    """The local ArcticDEM / TCVIS cache lacks an area and the remote source could not fill it."""


class RemoteSourceError(DartsError, RuntimeError):
    """A remote service (Earth Engine, STAC, geoBoundaries) is unreachable or refused the request."""


class ServiceUnusableError(RemoteSourceError):
    """A remote service cannot be used at all in this run (no credentials, client not installed):
    retrying or asking again for the next scene cannot help."""


class RemoteNoDataError(RemoteSourceError):
    """A remote service answered, but holds no data for the requested area (not retried)."""


class AdminRegionsError(DartsInputError):
    """The admin-boundaries folder is missing, empty or lacks the ``shapeName`` column."""
