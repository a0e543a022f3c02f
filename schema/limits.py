"""What one GraphQL document may ask for: depth, aliases, and fields once fragments are expanded.

A fragment may be spread many times, and each spread stands for all of its fields: a ~1 KB
document whose fragments spread the previous one twice (``fragment F1 on Query { ...F0 ...F0 }``
... ``query { ...F23 }``) expands to 2^23 copies of ``F0``.  Walking such a document spread by
spread (as strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` do) takes time
proportional to its expansion, exponential in the nesting, so here each fragment is measured
once and its counts reused wherever it is spread: time linear in the document's size, whatever
it expands to.  Counts are exact Python integers (2^400 is fine).

The counts are checked before graphql-core's own validation rules run (:class:`Validation`),
so a refused document costs its parsing and one pass over its fragments, nothing more.
Fragment cycles and unknown fragments count as empty here; graphql-core's validation reports
them (``NoFragmentCyclesRule``, ``KnownFragmentNamesRule``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from newsearch.schema.dates import name_arguments


@dataclass(frozen=True)
class Limits:
    """The most one operation may ask for; see README "Limits"."""

    max_depth: int
    """Levels of nested selections (introspection fields are not counted)."""
    max_aliases: int
    """Aliased fields, each spread of a fragment counting its aliases again."""
    max_fields: int
    """Fields, each spread of a fragment counting its fields again (``__typename`` too)."""


@dataclass(frozen=True)
class Cost:
    """What a selection set (an operation, a fragment) expands to."""

    fields: int = 0
    depth: int = 0
    aliases: int = 0


_EMPTY = Cost()


def _selection_cost(selection_set: SelectionSetNode, fragments: dict[str, Cost]) -> Cost:
    """The cost of ``selection_set``, its spreads taken from ``fragments`` (missing: empty).

    Recursion follows the nesting of one definition only, which the parser already bounds
    (it recurses the same way); spreads are looked up, never followed.
    """
    fields = depth = aliases = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = (
                _selection_cost(selection.selection_set, fragments)
                if selection.selection_set is not None
                else _EMPTY
            )
            fields += 1 + inner.fields
            aliases += (selection.alias is not None) + inner.aliases
            # As strawberry's QueryDepthLimiter: a leaf adds no level, introspection none.
            if selection.selection_set is not None and not selection.name.value.startswith("__"):
                depth = max(depth, 1 + inner.depth)
        elif isinstance(selection, InlineFragmentNode):
            inner = _selection_cost(selection.selection_set, fragments)
            fields, aliases = fields + inner.fields, aliases + inner.aliases
            depth = max(depth, inner.depth)
        elif isinstance(selection, FragmentSpreadNode):
            inner = fragments.get(selection.name.value, _EMPTY)
            fields, aliases = fields + inner.fields, aliases + inner.aliases
            depth = max(depth, inner.depth)
    return Cost(fields=fields, depth=depth, aliases=aliases)


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """Names of the fragments spread anywhere in ``selection_set`` (iteratively)."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def fragment_costs(document: DocumentNode) -> dict[str, Cost]:
    """Each fragment's cost, every fragment measured once, after the fragments it spreads.

    A depth-first walk with an explicit stack (a chain of hundreds of fragments does not
    recurse); a spread of a fragment that is still on the stack (a cycle) counts as empty.
    """
    definitions = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs: dict[str, Cost] = {}
    on_stack: set[str] = set()
    for root in definitions:
        if root in costs:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, _spreads(definitions[root].selection_set))]
        on_stack.add(root)
        while stack:
            name, pending = stack[-1]
            for spread in pending:
                if spread in definitions and spread not in costs and spread not in on_stack:
                    stack.append((spread, _spreads(definitions[spread].selection_set)))
                    on_stack.add(spread)
                    break
            else:
                costs[name] = _selection_cost(definitions[name].selection_set, costs)
                stack.pop()
                on_stack.discard(name)
    return costs


def operation_costs(document: DocumentNode) -> list[tuple[OperationDefinitionNode, Cost]]:
    """Each operation of ``document`` with what it expands to."""
    fragments = fragment_costs(document)
    return [
        (d, _selection_cost(d.selection_set, fragments))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


@functools.lru_cache(maxsize=256)
def limit_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """Errors for each limit an operation of ``document`` goes over (each names both numbers)."""
    errors: list[GraphQLError] = []
    for operation, cost in operation_costs(document):
        name = f"'{operation.name.value}'" if operation.name else "the anonymous operation"
        # (what is counted, its count, its limit, the message); in the order they are reported.
        checks = (
            (
                "fields",
                cost.fields,
                limits.max_fields,
                f"{name} selects {cost.fields:,} fields with its fragments expanded; "
                f"the limit is {limits.max_fields:,}: split it into smaller requests",
            ),
            (
                "depth",
                cost.depth,
                limits.max_depth,
                f"{name} exceeds maximum operation depth of {limits.max_depth}: "
                f"it is {cost.depth} levels deep",
            ),
            (
                "aliases",
                cost.aliases,
                limits.max_aliases,
                f"{name} has {cost.aliases:,} aliases with its fragments expanded; "
                f"the limit is {limits.max_aliases}",
            ),
        )
        errors += [
            GraphQLError(message, operation, extensions={"kind": "LIMIT", key: count})
            for key, count, limit, message in checks
            if count > limit
        ]
    return errors


@functools.lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return name_arguments(validate_document(schema, document, rules), document)


class Validation(SchemaExtension):
    """Validation with the limits first: graphql-core's rules only run on a document within them.

    Errors of DateTime values written in the document name their argument (schema/dates.py).

    Both steps are cached per document (apps repeat the same documents with new variables);
    this takes the place of strawberry's ``ValidationCache`` and ``AddValidationRules``.
    """

    def __init__(self, limits: Limits, rules: tuple[type[ASTValidationRule], ...] = ()) -> None:
        self.limits = limits
        self.rules = rules

    def on_validate(self) -> Iterator[None]:
        """Set the validation errors, before strawberry's own step (which then does nothing)."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            errors = limit_errors(document, self.limits)
            if not errors:
                rules = (*context.validation_rules, *self.rules)
                errors = _validate(context.schema._schema, document, rules)
            context.pre_execution_errors = list(errors)
        yield
