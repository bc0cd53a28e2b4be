"""Reports: contact counts by a dimension, computed by the database."""

from __future__ import annotations

import strawberry

from ..loaders.context import Info
from ..resolvers.reports import UNASSIGNED, StatsDimension, contact_stats
from .contacts import ContactFilter, filter_given
from .fields import query

strawberry.enum(StatsDimension, name="StatsDimension")


@strawberry.type
class StatBucket:
    key: str = strawberry.field(
        description=(
            'the id of the status, source, group or agent ("unassigned" for contacts without one),'
            ' the ContactType, or "true"/"false" for OPTED_OUT'
        )
    )
    label: str
    count: int


@strawberry.type
class ReportsQuery:
    @query(
        description=(
            "contacts the filter selects, counted by groupBy. STATUS: every status in position order,"
            " zero counts included; the others: the values contacts have, largest count first"
            f' (a contact counts in each of its groups; AGENT has an "{UNASSIGNED}" bucket)'
        )
    )
    async def contact_stats(
        self, info: Info, group_by: StatsDimension, filter: ContactFilter | None = None
    ) -> list[StatBucket]:
        buckets = await contact_stats(info.context.caller, group_by, filter_given(filter))
        return [StatBucket(key=b.key, label=b.label, count=b.count) for b in buckets]
