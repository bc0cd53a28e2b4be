"""From an ``Authorization: Bearer …`` value to the caller of a request."""

from __future__ import annotations

import hmac

from .loaders.context import Context
from .models import Agent, ApiToken
from .settings import Settings


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def context_for(settings: Settings, authorization: str | None, **kwargs: object) -> Context:
    """The context of a caller: the platform admin, an agent, or nobody."""
    token = bearer_token(authorization)
    if token is None:
        return Context(settings=settings, **kwargs)  # type: ignore[arg-type]
    admin_key = settings.admin_key.get_secret_value() if settings.admin_key else None
    if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
        return Context(settings=settings, is_admin=True, **kwargs)  # type: ignore[arg-type]
    agent = await ApiToken.agent_for(token)
    return Context(settings=settings, agent=agent, **kwargs)  # type: ignore[arg-type]


async def connection_agent(params: object) -> Agent | None:
    """The agent whose token a WebSocket's ``connection_init`` payload carries.

    The payload is ``{"authorization": "Bearer <token>"}`` (any letter case for the
    key): browsers cannot set headers on a WebSocket. Only agents subscribe.
    """
    if not isinstance(params, dict):
        return None
    header = next((v for k, v in params.items() if str(k).lower() == "authorization"), None)
    token = bearer_token(header if isinstance(header, str) else None)
    return await ApiToken.agent_for(token) if token else None


async def renewed(context: Context) -> Agent | None:
    """A WebSocket connection's agent as it is now: None once its token is revoked.

    A connection outlives changes of access, so each operation started on it, and each
    subscription told of an access change, reads the token again (one round trip).
    """
    if context.connection_params is not None:
        context.become(await connection_agent(context.connection_params))
    return context.agent
