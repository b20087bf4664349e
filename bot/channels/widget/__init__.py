"""The widget channel (issue "The web widget on the town's website")."""
from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Not built yet: the issue adds its routes and its `Outbound` delivery here."""
