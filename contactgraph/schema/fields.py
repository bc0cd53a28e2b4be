"""Field helpers: each root field is guarded by its row of the access policy (``access.OPERATIONS``)."""

from __future__ import annotations

from typing import Any

import strawberry

from .guards import Authorized, PlatformAdmin, UserErrorsPayload


def query(**kwargs: Any) -> Any:
    """A query field for authenticated callers its rule allows."""
    return strawberry.field(extensions=[Authorized()], **kwargs)


def subscription(**kwargs: Any) -> Any:
    """A subscription for authenticated callers its rule allows."""
    return strawberry.subscription(extensions=[Authorized()], **kwargs)


def mutation(**kwargs: Any) -> Any:
    """A mutation for authenticated callers; failures, a refusal of the rule too, become ``userErrors``.

    Strawberry makes the last extension the outermost, so ``UserErrorsPayload`` comes last.
    """
    return strawberry.mutation(extensions=[Authorized(), UserErrorsPayload()], **kwargs)


def admin_mutation(**kwargs: Any) -> Any:
    """A mutation for the platform administrator (the server's admin key)."""
    return strawberry.mutation(extensions=[UserErrorsPayload(), PlatformAdmin()], **kwargs)
