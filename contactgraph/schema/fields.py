"""Field helpers that declare permissions next to the field."""

from __future__ import annotations

from typing import Any

import strawberry

from ..models import Permission
from .guards import Authorized, PlatformAdmin, UserErrorsPayload


def query(*permissions: Permission, **kwargs: Any) -> Any:
    """A query field for authenticated callers holding any one of ``permissions``."""
    return strawberry.field(extensions=[Authorized(*permissions)], **kwargs)


def subscription(*permissions: Permission, **kwargs: Any) -> Any:
    """A subscription for authenticated callers holding any one of ``permissions``."""
    return strawberry.subscription(extensions=[Authorized(*permissions)], **kwargs)


def mutation(*permissions: Permission, **kwargs: Any) -> Any:
    """A mutation for authenticated callers; failures, a missing permission too, become ``userErrors``.

    Strawberry makes the last extension the outermost, so ``UserErrorsPayload`` comes last.
    """
    return strawberry.mutation(extensions=[Authorized(*permissions), UserErrorsPayload()], **kwargs)


def admin_mutation(**kwargs: Any) -> Any:
    """A mutation for the platform administrator (the server's admin key)."""
    return strawberry.mutation(extensions=[UserErrorsPayload(), PlatformAdmin()], **kwargs)
