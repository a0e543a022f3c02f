"""graphql-core execution with a short path for plain objects, with the same results.

graphql-core completes each field of each object alone: resolve info, resolver,
awaitable checks, leaf completion.  A search answer is mostly plain objects (histogram
buckets, facet values, hits): hundreds of fields, whose completion can cost as much as
the search itself.  An object whose
selected fields are all scalars, enums or lists of them, read by strawberry's default resolver
(an attribute, no resolver function, no permission, no extension) is completed
here in one loop, each value serialized by its GraphQL type as graphql-core
does.  Anything else, or any value that would be an error (a null in a
non-null field, a serialization failure), goes the usual way, so errors and
their paths are graphql-core's own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    OperationType,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from newsearch.schema.context import Context, RequestTimeout

if TYPE_CHECKING:
    from graphql import GraphQLOutputType, GraphQLResolveInfo
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
    from graphql.pyutils import AwaitableOrValue, Path

log = logging.getLogger("newsearch.server")

_TYPENAME = "__typename"


@dataclass(frozen=True)
class _Leaf:
    key: str
    """The response key (the alias, if any)."""
    field: Any
    """The StrawberryField; ``None`` for ``__typename``."""
    type: GraphQLLeafType | None
    non_null: bool
    items_non_null: bool | None = None
    """For a list of scalars (``tags``): whether its items are non-null; None: no list."""


class PlainObjectsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, completing plain objects in one step."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (type name, id of a grouped field set) -> (the set, kept alive so that its id
        # is not reused; its plan or None).  graphql-core memoizes grouped field sets per
        # selection, so the 143 buckets of a histogram share one plan.
        self._plans: dict[tuple[str, int], tuple[GroupedFieldSet, list[_Leaf] | None]] = {}
        # A query the server gave up on (schema/offload.py) stops at its next object; a
        # mutation says so, to be waited for.
        self._cancelled = None
        context = self.context_value
        if isinstance(context, Context):
            if self.operation.operation == OperationType.MUTATION:
                context.writing = True
            else:
                self._cancelled = context.cancelled

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        *rest: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """The object's fields: in one loop when they are plain, else graphql-core's way."""
        if self._cancelled is not None and self._cancelled.is_set():
            raise RequestTimeout
        plan = self._plan(parent_type, grouped_field_set)
        if plan is not None:
            done = self._complete(plan, parent_type, source_value)
            if done is not None:
                return done
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, *rest)

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        *rest: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list of plain objects in one loop (a histogram's buckets), else graphql-core's."""
        if self._cancelled is not None and self._cancelled.is_set():
            raise RequestTimeout
        done = self._plain_list(return_type, field_details_list, result)
        if done is not None:
            return done
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, *rest
        )

    def _plain_list(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        result: Any,
    ) -> list[Any] | None:
        item_type: Any = return_type.of_type
        non_null = isinstance(item_type, GraphQLNonNull)
        if non_null:
            item_type = item_type.of_type
        if (
            not isinstance(item_type, GraphQLObjectType)
            or item_type.is_type_of is not None
            or not isinstance(result, list | tuple)
            or any(d.node.directives for d in field_details_list)  # @stream
        ):
            return None
        try:
            grouped_field_set = self.collect_subfields(item_type, field_details_list)[0]
        except Exception:  # let graphql-core report it
            return None
        plan = self._plan(item_type, grouped_field_set)
        if plan is None:
            return None
        completed: list[Any] = []
        for item in result:
            if item is None:
                if non_null:
                    return None
                completed.append(None)
                continue
            value = self._complete(plan, item_type, item)
            if value is None:
                return None
            completed.append(value)
        return completed

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[_Leaf] | None:
        key = (parent_type.name, id(grouped_field_set))
        found = self._plans.get(key)
        if found is None:
            try:
                plan = self._make_plan(parent_type, grouped_field_set)
            except Exception:  # another graphql-core's internals: the usual way, always
                log.warning("plain-object completion unavailable", exc_info=True)
                plan = None
            found = (grouped_field_set, plan)
            self._plans[key] = found
        return found[1]

    def _make_plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[_Leaf] | None:
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None  # an extension wraps every resolver: leave it to graphql-core
        plan: list[_Leaf] = []
        for response_key, details_list in grouped_field_set.items():
            for details in details_list:
                node = details.node
                if (
                    getattr(details, "defer_usage", None) is not None
                    or getattr(details, "fragment_variable_values", None) is not None
                    or node.arguments
                    or node.directives
                    or node.selection_set is not None
                ):
                    return None
            name = details_list[0].node.name.value
            if name == _TYPENAME:
                plan.append(_Leaf(response_key, None, None, True))
                continue
            definition = parent_type.fields.get(name)
            if definition is None or not getattr(definition.resolve, "_is_default", False):
                return None
            field = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            leaf: Any = definition.type
            non_null = isinstance(leaf, GraphQLNonNull)
            if non_null:
                leaf = leaf.of_type
            items_non_null = None
            if isinstance(leaf, GraphQLList):
                leaf = leaf.of_type
                items_non_null = isinstance(leaf, GraphQLNonNull)
                if items_non_null:
                    leaf = leaf.of_type
            if field is None or not is_leaf_type(leaf):
                return None
            plan.append(_Leaf(response_key, field, leaf, non_null, items_non_null))
        return plan

    def _complete(
        self, plan: list[_Leaf], parent_type: GraphQLObjectType, source: Any
    ) -> dict[str, Any] | None:
        """The completed object, or None where graphql-core must do it (to report errors)."""
        result: dict[str, Any] = {}
        try:
            for leaf in plan:
                if leaf.type is None:
                    result[leaf.key] = parent_type.name
                    continue
                value = leaf.field.get_result(source, info=None, args=[], kwargs={})
                if value is None:
                    if leaf.non_null:
                        return None
                    result[leaf.key] = None
                    continue
                if isinstance(value, Exception) or self.is_awaitable(value):
                    close = getattr(value, "close", None)
                    if close is not None:
                        close()  # a coroutine from a getter: graphql-core calls it again
                    return None
                if leaf.items_non_null is None:
                    serialized = _serialized(leaf.type, value)
                    if serialized is None:
                        return None
                    result[leaf.key] = serialized
                    continue
                if not isinstance(value, list | tuple):
                    return None
                items: list[Any] = []
                for item in value:
                    if item is None:
                        if leaf.items_non_null:
                            return None
                        items.append(None)
                        continue
                    serialized = _serialized(leaf.type, item)
                    if serialized is None:
                        return None
                    items.append(serialized)
                result[leaf.key] = items
        except Exception:
            return None
        return result


def _serialized(type_: GraphQLLeafType, value: Any) -> Any:
    """``type_.serialize(value)``, None where graphql-core would report an error."""
    if isinstance(value, Exception):
        return None
    serialized = type_.serialize(value)
    return None if serialized is Undefined else serialized
