"""Custom actions for Rasa (`rasa run actions --actions actions`): answers from content/."""
from __future__ import annotations

import gc
import logging
import sys


def _serving() -> bool:
    """Imported by the action server (`rasa run actions`), not by a test or a tool."""
    return sys.argv[1:3] == ["run", "actions"]


if _serving():
    # Everything the server answers with is loaded before it serves (the actions, the content),
    # then kept out of the garbage collector's full collections: they walked the whole heap
    # and stopped the action server for 150-230 ms, once in a few hundred messages (a
    # `gc.callbacks` probe under bench/latency.py). Later garbage is collected as before.
    from . import actions  # noqa: F401
    from .context import content_store

    content_store().snapshot()
    gc.collect()
    gc.freeze()
    logging.getLogger(__name__).info("action server ready: %d loaded objects frozen", gc.get_freeze_count())
