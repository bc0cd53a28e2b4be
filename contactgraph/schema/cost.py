"""A document's cost, estimated before it runs, and the limit on it.

The estimate is the most fields the response could hold: every field counts 1, and
a field that takes ``first``/``last`` (a page: ``DEFAULT_PAGE`` when neither is given,
variables read) counts what is selected under its ``edges`` (or under it, for a plain
list) once per item of the page. Aliases and repeated fields each count; fragments
and inline fragments are followed. Lists without a page size count as one item.

The depth, alias and token limits bound a document's shape; only this one bounds the
work a few small documents can ask for (30 aliases of ``contacts(first: 500)`` with
nested pages of 500 pass the others and run for tens of seconds).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from ..resolvers.pagination import DEFAULT_PAGE

PAGE_ARGUMENTS = ("first", "last")
ITEM_FIELDS = frozenset({"edges", "nodes"})


class _Estimate:
    """One walk over one operation; a fragment's cost is computed once per page size."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.known: dict[tuple[str, int | None], int] = {}
        self.visiting: set[str] = set()

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, page: int | None = None
    ) -> int:
        """The cost of a selection set; ``page`` is set when its parent field is a page."""
        items = _item_fields(parent) if page is not None else frozenset()
        total = 0
        spread: set[str] = set()  # like execution, a fragment spread twice in one set runs once
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                times = page if page is not None and (not items or selection.name.value in items) else 1
                total += times * self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, scope or parent, page)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                total += self.fragment(selection.name.value, page)
        return total

    def fragment(self, name: str, page: int | None) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.visiting:  # unknown or cyclic: validation reports it
            return 0
        if (name, page) not in self.known:
            self.visiting.add(name)
            scope = self.schema.get_type(fragment.type_condition.name.value)
            self.known[name, page] = self.selections(fragment.selection_set, scope, page)
            self.visiting.discard(name)
        return self.known[name, page]

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        if node.selection_set is None:
            return 1
        definition = _field_of(parent, node.name.value)
        result_type = get_named_type(definition.type) if definition else None
        return 1 + self.selections(node.selection_set, result_type, self.page_size(node, definition))

    def page_size(self, node: FieldNode, definition: GraphQLField | None) -> int | None:
        if definition is None or not any(name in definition.args for name in PAGE_ARGUMENTS):
            return None
        given = [self.int_argument(node, name) for name in PAGE_ARGUMENTS]
        sizes = [size for size in given if size is not None]
        return max(0, *sizes) if sizes else DEFAULT_PAGE

    def int_argument(self, node: FieldNode, name: str) -> int | None:
        argument = next((a for a in node.arguments or () if a.name.value == name), None)
        if argument is None:
            return None
        if isinstance(argument.value, IntValueNode):
            return int(argument.value.value)
        if not isinstance(argument.value, VariableNode):
            return None  # null: the default page
        try:  # as execution will read it: 500.0 is 500
            return int(GraphQLInt.parse_value(self.variables.get(argument.value.name.value)))
        except GraphQLError:  # null, absent, or no Int at all (execution refuses those)
            return None


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    return None


def _item_fields(parent: GraphQLNamedType | None) -> frozenset[str]:
    """The fields of a connection that repeat per item; none for a plain list (all repeat)."""
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return ITEM_FIELDS & parent.fields.keys()
    return frozenset()


def _variable_values(operation: OperationDefinitionNode, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The request's variables, with the operation's literal defaults for those it left out."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if given is not None and name in given:
            values[name] = given[name]
        elif isinstance(definition.default_value, IntValueNode):
            values[name] = int(definition.default_value.value)
    return values


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The estimated cost of the operation the request names (0 when it names none)."""
    operation = get_operation_ast(document, operation_name)
    return 0 if operation is None else operation_cost(schema, document, operation, variables)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None = None,
) -> int:
    root = schema.get_root_type(operation.operation)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    estimate = _Estimate(schema, fragments, _variable_values(operation, variables))
    return estimate.selections(operation.selection_set, root)


class QueryCostLimiter(SchemaExtension):
    """Refuses a document whose estimated cost passes ``max_cost`` before anything runs,
    and reports the estimate as ``extensions.cost`` of query and mutation responses.

    It comes after ``ValidationCache``, whose validation runs as its hook starts: a
    document that failed validation keeps its errors and is not estimated. Subscription
    events do not repeat the estimate; a subscription over the limit is refused all the same.
    """

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost
        self.cost: int | None = None
        self.report = False

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and not context.pre_execution_errors:
            refusal = self._estimate(context.graphql_document)
            if refusal is not None:
                context.pre_execution_errors = [refusal]  # a new list: ValidationCache shares its own
        yield

    def _estimate(self, document: DocumentNode) -> GraphQLError | None:
        context = self.execution_context
        operation = get_operation_ast(document, context.operation_name)
        if operation is None:  # execution reports it, and runs nothing
            return None
        self.report = operation.operation is not OperationType.SUBSCRIPTION
        self.cost = operation_cost(context.schema._schema, document, operation, context.variables)
        if self.cost <= self.max_cost:
            return None
        return GraphQLError(
            f"The query's estimated cost is {self.cost}, over the limit of {self.max_cost}: "
            "ask for smaller pages (first/last), fewer aliases or fewer nested connections.",
            extensions={"code": "LIMIT_EXCEEDED"},
        )

    def get_results(self) -> dict[str, Any]:
        if self.cost is None or not self.report:
            return {}
        return {"cost": {"requestedQueryCost": self.cost, "maximumAvailable": self.max_cost}}
