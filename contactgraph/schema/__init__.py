"""The GraphQL schema: each area's Query and Mutation merged at the root."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from ..settings import Settings
from .admin import AdminMutation, AdminQuery
from .board import BoardMutation, BoardQuery
from .bulk_edits import BulkEditMutation
from .chat import ChatMutation
from .contacts import ContactMutation, ContactQuery
from .cost import QueryCostLimiter
from .guards import ClientErrors, log_unexpected
from .imports import ImportMutation, ImportQuery, ImportSubscription
from .journey import JourneyMutation
from .library import LibraryMutation, LibraryQuery
from .lists import ListsMutation
from .merge import MergeMutation
from .node import NodeQuery
from .reports import ReportsQuery
from .scalars import SCALAR_MAP
from .segments import SegmentMutation, SegmentQuery
from .subscriptions import ContactSubscription, SharedEventExecutor
from .webhooks import WebhookMutation, WebhookQuery

Query = merge_types(
    "Query", (NodeQuery, AdminQuery, ContactQuery, LibraryQuery, BoardQuery, ReportsQuery, WebhookQuery)
)
Query = merge_types("Query", (Query, ImportQuery))
Query = merge_types("Query", (Query, SegmentQuery))
Mutation = merge_types(
    "Mutation", (AdminMutation, LibraryMutation, ContactMutation, BoardMutation, WebhookMutation)
)
Mutation = merge_types("Mutation", (Mutation, ImportMutation, ListsMutation))
Mutation = merge_types("Mutation", (Mutation, ChatMutation, MergeMutation, JourneyMutation))
Mutation = merge_types("Mutation", (Mutation, SegmentMutation, BulkEditMutation))
Subscription = merge_types("Subscription", (ContactSubscription, ImportSubscription))


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors)


def build_schema(settings: Settings) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[date],  # the contract declares Date for clients though no field takes one yet
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        execution_context_class=SharedEventExecutor,  # a status change executes once per group of subscribers
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            # Clients send the same few documents again and again: validate each once.
            lambda: ValidationCache(maxsize=256),
            lambda: QueryCostLimiter(max_cost=settings.max_query_cost),  # after validation, before execution
            ClientErrors,
        ],
    )


def sdl(settings: Settings | None = None) -> str:
    return build_schema(settings or Settings()).as_str()


__all__: list[Any] = ["Schema", "build_schema", "sdl"]
