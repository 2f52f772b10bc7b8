"""The flush planner: changes in, ordered statement batches out. Pure: no I/O, no
session; unit-tested without a database.

Input is three lists of :class:`Change` (inserts, updates, deletes), each naming its
table(s) and carrying the column values. Output is a list of :class:`Batch`, in the
order they must run:

* tables are ordered by foreign-key dependency (a referenced table before the tables
  that refer to it); for each table in that order, its INSERTs and then its UPDATEs;
  then every DELETE, tables in the reverse order;
* consecutive rows of one table with the same columns form one batch (executemany, or
  multi-row INSERT ... RETURNING when keys must come back);
* within a table, rows keep the order they were added to the session, except that a
  row whose foreign key refers to another new row of the same table (a tree) goes after
  that row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hermetic.sql.ddl import sort_tables
from hermetic.sql.schema import Table


@dataclass
class Change:
    """One row to write. ``values``: column key -> value (for an UPDATE, the changed
    columns only); ``pk``: column key -> primary-key value (UPDATE/DELETE WHERE);
    ``returning``: column keys the database generates that must come back;
    ``owner``: opaque (the object's state), handed back with the batch."""

    table: Table
    values: dict[str, Any]
    owner: Any = None
    pk: dict[Any, Any] = field(default_factory=dict)
    returning: tuple[str, ...] = ()
    version: tuple[Any, Any] | None = None  # (column key, expected old value)
    depends_on: Any = None  # ident of another change in the same table that must go first
    ident: Any = None  # what depends_on refers to (default: the owner)
    plain: bool = False  # values are Python values only (no SQL, none known later)


@dataclass
class Batch:
    kind: str  # "insert" | "update" | "delete"
    table: Table
    keys: tuple[str, ...]  # columns set (insert/update) ...
    where_keys: tuple[str, ...]  # ... and matched (update/delete: pk [+ version])
    returning: tuple[str, ...]
    changes: list[Change]

    def __repr__(self) -> str:
        return (
            f"Batch({self.kind} {self.table.name} set={list(self.keys)} "
            f"where={list(self.where_keys)} returning={list(self.returning)} "
            f"rows={len(self.changes)})"
        )


def _table_order(tables: Sequence[Table]) -> list[Table]:
    unique: dict[int, Table] = {}
    for t in tables:
        unique.setdefault(id(t), t)
    try:
        ordered = sort_tables(unique.values())
    except Exception:  # tables without a shared MetaData sort by first appearance
        ordered = list(unique.values())
    rank = {id(t): i for i, t in enumerate(ordered)}
    # sort_tables sorts ties by name; keep unrelated tables in first-appearance order
    # only where dependencies allow (stable: a dependency order is still respected)
    return sorted(unique.values(), key=lambda t: rank.get(id(t), 0))


def _self_ordered(changes: list[Change]) -> list[Change]:
    """Rows of one table ordered so a row goes after the row it depends on: by level
    (rows depending on nothing here first, then their dependents ...), keeping the
    session's order within a level, so that a tree goes out as one batch per level."""
    if not any(c.depends_on is not None for c in changes):
        return changes
    by_owner = {id(c.ident if c.ident is not None else c.owner): c for c in changes}
    depth: dict[int, int] = {}

    def level(c: Change, trail: set[int]) -> int:
        known = depth.get(id(c))
        if known is not None:
            return known
        dep = by_owner.get(id(c.depends_on)) if c.depends_on is not None else None
        if dep is None or dep is c or id(c) in trail:
            value = 0  # no dependency here, or a cycle (broken by a post-update)
        else:
            trail.add(id(c))
            value = level(dep, trail) + 1
        depth[id(c)] = value
        return value

    order = {id(c): i for i, c in enumerate(changes)}
    return sorted(changes, key=lambda c: (level(c, set()), order[id(c)]))


def _batches(kind: str, table: Table, changes: list[Change]) -> list[Batch]:
    out: list[Batch] = []
    current: Batch | None = None
    members: set[int] = set()  # idents in the current batch
    for c in changes:
        keys = tuple(c.values)
        where = tuple(c.pk) + ((c.version[0],) if c.version is not None else ())
        if (
            current is not None
            and current.keys == keys
            and current.where_keys == where
            and current.returning == c.returning
            # a row referring to a row of this batch waits for the batch to run
            and (c.depends_on is None or id(c.depends_on) not in members)
        ):
            current.changes.append(c)
            members.add(id(c.ident if c.ident is not None else c.owner))
            continue
        current = Batch(kind, table, keys, where, c.returning, [c])
        members = {id(c.ident if c.ident is not None else c.owner)}
        out.append(current)
    return out


def plan_flush(
    inserts: Sequence[Change], updates: Sequence[Change], deletes: Sequence[Change]
) -> list[Batch]:
    """The ordered batches for one flush (see the module docstring)."""
    tables = [c.table for c in (*inserts, *updates, *deletes)]
    order = _table_order(tables)
    by_table_ins: dict[int, list[Change]] = {}
    by_table_upd: dict[int, list[Change]] = {}
    by_table_del: dict[int, list[Change]] = {}
    for c in inserts:
        by_table_ins.setdefault(id(c.table), []).append(c)
    for c in updates:
        by_table_upd.setdefault(id(c.table), []).append(c)
    for c in deletes:
        by_table_del.setdefault(id(c.table), []).append(c)
    plan: list[Batch] = []
    for t in order:
        ins = by_table_ins.get(id(t))
        if ins:
            plan.extend(_batches("insert", t, _self_ordered(ins)))
        upd = by_table_upd.get(id(t))
        if upd:
            plan.extend(_batches("update", t, upd))
    for t in reversed(order):
        dels = by_table_del.get(id(t))
        if dels:
            plan.extend(_batches("delete", t, list(reversed(_self_ordered(dels)))))
    return plan
