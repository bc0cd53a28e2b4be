"""Search terms for contacts stored before contacts had them: given at start-up, in batches.

Every writer derives a contact's ``search_terms`` (``models.contact.derive``); a contact
stored before they existed has none (no field, or null) and search does not find it. The
app's start-up runs ``backfill`` in the background: it reads a batch of such contacts (the
values the terms are made of, nothing more), and sets each one's terms with an update
guarded by their still being missing, so it never overwrites what a writer derived
meanwhile and several processes starting at once do each contact once. Run again it finds
nothing. Its query is served by the ``search_terms`` index, where a contact without terms
is indexed under null: the ``$type`` condition on ``workspace_id`` lets the planner use an
index that starts with it, so no run scans the collection.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

from pymongo import UpdateOne

from ..models import Contact
from ..models.search import SOURCES, terms_of

logger = logging.getLogger("contactgraph.search")

BATCH = 500
MISSING: dict[str, Any] = {"workspace_id": {"$type": "objectId"}, "search_terms": None}


async def backfill(batch: int = BATCH) -> int:
    """Give every contact without search terms its terms; how many were given them."""
    collection = Contact.get_pymongo_collection()
    fields = dict.fromkeys(SOURCES, 1)
    done = 0
    while True:
        found = await collection.find(MISSING, fields, limit=batch).to_list()
        if not found:
            break
        updates = [
            UpdateOne({"_id": doc["_id"], "search_terms": None}, {"$set": {"search_terms": terms_of(doc)}})
            for doc in found
        ]
        result = await collection.bulk_write(updates, ordered=False)
        done += result.modified_count
        if len(found) < batch or result.modified_count == 0:  # the last batch, or another process's
            break
    if done:
        logger.info("gave %d contacts their search terms", done)
    return done


class Backfill:
    """``backfill`` in the background, started with the app (which serves meanwhile). A failure
    is logged, and the next start-up takes up what is left."""

    def __init__(self) -> None:
        self.task = asyncio.create_task(self._run(), name="search-backfill")

    @staticmethod
    async def _run() -> int:
        try:
            return await backfill()
        except Exception:
            logger.exception("search terms backfill failed")
            return 0

    async def stop(self) -> None:
        self.task.cancel()
        with suppress(asyncio.CancelledError):
            await self.task
