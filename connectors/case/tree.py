"""The reading order of a package's CFItems, following its `isChildOf` tree.

CASE carries order on the `isChildOf` association (`sequenceNumber`), not in
the CFItems array. Siblings are ordered by sequence number; siblings without
one come after, by humanCodingScheme compared part by part (`L1.2` before
`L1.10`), and last by their place in the CFItems array.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from connectors.case.package import DOCUMENT, Package, PackageItem

IS_CHILD_OF = "ischildof"

_CODE_PARTS = re.compile(r"(\d+)")

SiblingKey = tuple[bool, int, bool, tuple[tuple[int, int, str], ...], int]


def tree_order(package: Package) -> list[str]:
    """Item keys in depth-first order from the CFDocument.

    An item with several parents is placed under the first one reached.
    Items no `isChildOf` connects to the document (orphans, cycles) follow
    as extra roots, in CFItems order, each with its own subtree.
    """
    children = _children_by_parent(package)
    order: list[str] = []
    placed: set[str] = set()
    roots = [DOCUMENT] + [item.key for item in package.items]
    for root in roots:
        if root in placed:
            continue
        for key in _depth_first(root, children, placed):
            if key != DOCUMENT:
                order.append(key)
    return order


def _children_by_parent(package: Package) -> dict[str, list[str]]:
    items = {item.key: (index, item) for index, item in enumerate(package.items)}
    keyed: dict[str, list[tuple[SiblingKey, str]]] = {}
    for association in package.associations:
        if association.association_type.lower() != IS_CHILD_OF:
            continue
        child = package.resolve(association.origin)
        parent = package.resolve(association.destination)
        if child is None or child == DOCUMENT or parent is None or parent == child:
            continue
        index, item = items[child]
        sort_key = _sibling_key(association.sequence_number, item, index)
        keyed.setdefault(parent, []).append((sort_key, child))
    return {
        parent: [child for _key, child in sorted(entries)]
        for parent, entries in keyed.items()
    }


def _sibling_key(
    sequence_number: int | None, item: PackageItem, index: int
) -> SiblingKey:
    code = item.human_coding_scheme
    return (
        sequence_number is None,
        sequence_number or 0,
        code is None,
        _code_parts(code or ""),
        index,
    )


def _code_parts(code: str) -> tuple[tuple[int, int, str], ...]:
    """`L1.10` as comparable parts, numbers by value, text case-insensitively."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in _CODE_PARTS.split(code)
        if part
    )


def _depth_first(
    root: str, children: dict[str, list[str]], placed: set[str]
) -> Iterator[str]:
    placed.add(root)
    yield root
    stack = [iter(children.get(root, []))]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if child in placed:
            continue
        placed.add(child)
        yield child
        stack.append(iter(children.get(child, [])))
