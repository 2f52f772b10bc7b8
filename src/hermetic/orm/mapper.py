"""The Mapper: which class maps to which table(s), under which attribute names.

Everything the per-row and per-flush paths need is computed here once, when the class
is mapped: the SELECT list and attribute keys for loading, primary-key positions, the
attribute implementations the instrumented ``__setattr__`` dispatches to, and the
inheritance layout (single-table: one table and a discriminator; joined: one table per
class, joined on the primary key).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from hermetic import exc
from hermetic.orm import exc as orm_exc
from hermetic.orm.attributes import AttributeImpl, QueryableAttribute, instrument_class
from hermetic.orm.properties import ColumnProperty, MapperProperty
from hermetic.orm.state import IdentityKey, instance_state
from hermetic.sql.elements import and_
from hermetic.sql.schema import Column, Table
from hermetic.sql.selectable import ColumnCollection, FromClause, Join

_all_mappers: weakref.WeakSet[Mapper] = weakref.WeakSet()


class _ClassLevel:
    """A class attribute that exists on the class only (instances don't see it)."""

    def __init__(self, name: str, fn: Any) -> None:
        self.name = name
        self.fn = fn

    def __get__(self, obj: Any, owner: Any) -> Any:
        if obj is not None:
            raise AttributeError(self.name)
        mapper = owner.__dict__.get("__mapper__") or owner.__mapper__
        return getattr(mapper, self.fn)


class Mapper:
    """Maps a class to a table (``inspect(User)`` returns it)."""

    _is_mapper = True
    is_mapper = True
    _is_inspectable_self = True
    is_aliased_class = False

    def __init__(
        self,
        class_: type,
        local_table: FromClause | None = None,
        properties: dict[str, Any] | None = None,
        primary_key: Sequence[Any] | None = None,
        inherits: Mapper | type | None = None,
        inherit_condition: Any = None,
        polymorphic_on: Any = None,
        polymorphic_identity: Any = None,
        version_id_col: Any = None,
        version_id_generator: Any = None,
        eager_defaults: Any = "auto",
        exclude_properties: Sequence[str] | None = None,
        include_properties: Sequence[str] | None = None,
        column_prefix: str | None = None,
        registry: Any = None,
        confirm_deleted_rows: bool = True,
        always_refresh: bool = False,
        passive_deletes: bool = False,
        with_polymorphic: Any = None,
        polymorphic_load: Any = None,
        polymorphic_abstract: bool = False,
        batch: bool = True,
        allow_partial_pks: bool = True,
        concrete: bool = False,
        non_primary: bool = False,
        **kw: Any,
    ) -> None:
        self.class_ = class_
        self.registry = registry
        if isinstance(inherits, type):
            inherits = _mapper_of_class(inherits)
        self.inherits: Mapper | None = inherits
        self.inherit_condition = inherit_condition
        self.version_id_generator = version_id_generator
        self.eager_defaults = eager_defaults
        self.confirm_deleted_rows = confirm_deleted_rows
        self.always_refresh = always_refresh
        self.passive_deletes = passive_deletes
        self.polymorphic_abstract = polymorphic_abstract
        self.batch = batch
        self.allow_partial_pks = allow_partial_pks
        self.concrete = concrete
        self._dependents: list[Mapper] = []
        self._configured = False
        self.with_polymorphic = with_polymorphic

        if inherits is not None and local_table is None:
            local_table = inherits.local_table  # single-table inheritance
            self.single = True
        else:
            self.single = False
        if local_table is None:
            raise exc.ArgumentError(
                f"Mapper for {class_.__name__} has no table: give __tablename__ (with "
                "columns) or __table__, or inherit from a mapped class"
            )
        self.local_table: Any = local_table
        if inherits is not None:
            inherits._dependents.append(self)
            self.base_mapper: Mapper = inherits.base_mapper
            if self.single:
                self.tables: list[Any] = list(inherits.tables)
                self.persist_selectable: Any = inherits.persist_selectable
            else:
                self.tables = [*inherits.tables, local_table]
                if inherit_condition is None:
                    self.persist_selectable = Join(inherits.persist_selectable, local_table)
                    self.inherit_condition = self.persist_selectable.onclause
                else:
                    self.persist_selectable = Join(
                        inherits.persist_selectable, local_table, inherit_condition
                    )
            self.polymorphic_map: dict[Any, Mapper] = inherits.polymorphic_map
            self.polymorphic_on: Any = inherits.polymorphic_on
        else:
            self.base_mapper = self
            self.tables = [local_table]
            self.persist_selectable = local_table
            self.polymorphic_map = {}
            self.polymorphic_on = None
        if polymorphic_on is not None:
            self.polymorphic_on = self._resolve_column(polymorphic_on, properties)
        self.polymorphic_identity = polymorphic_identity
        if polymorphic_identity is not None:
            self.polymorphic_map[polymorphic_identity] = self

        self.version_id_col = (
            self._resolve_column(version_id_col, properties) if version_id_col is not None else None
        )
        if self.version_id_col is None and inherits is not None:
            self.version_id_col = inherits.version_id_col

        # -- properties -----------------------------------------------------------------
        self._props: dict[str, MapperProperty] = {}
        if inherits is not None:
            for key, prop in inherits._props.items():
                self._props[key] = prop
        explicit = dict(properties or {})
        exclude = set(exclude_properties or ())
        include = set(include_properties) if include_properties is not None else None
        explicit_columns: dict[int, str] = {}
        for key, value in explicit.items():
            if isinstance(value, ColumnProperty):
                for c in value.columns:
                    explicit_columns[id(c)] = key
            elif isinstance(value, Column):
                explicit_columns[id(value)] = key
        for col in getattr(local_table, "c", ()):
            if id(col) in explicit_columns:
                continue
            key = (column_prefix or "") + col.key
            if key in exclude or (include is not None and key not in include):
                continue
            existing = self._props.get(key)
            if isinstance(existing, ColumnProperty) and not existing.is_expression:
                if col in existing.columns:
                    continue
                # joined inheritance: the subclass table's column of the same name (its
                # primary key) is the same attribute
                merged = ColumnProperty(*existing.columns, col)
                merged.deferred = existing.deferred
                self._props[key] = merged
                continue
            self._props[key] = ColumnProperty(col)
        for key, value in explicit.items():
            if isinstance(value, Column):
                value = ColumnProperty(value)
            elif isinstance(value, (list, tuple)) and value and isinstance(value[0], Column):
                value = ColumnProperty(*value)
            self._props[key] = value

        # -- primary key ------------------------------------------------------------------
        if primary_key is not None:
            pk = [self._resolve_column(c, None) for c in primary_key]
        elif inherits is not None:
            pk = list(inherits.primary_key)
        else:
            pk = list(getattr(local_table, "primary_key", ()) or ())
        if not pk:
            raise exc.ArgumentError(
                f"Mapper for {class_.__name__} could not assemble any primary key columns "
                f"for mapped table '{getattr(local_table, 'name', local_table)}'; give a "
                "column primary_key=True (or pass primary_key=[...] to the mapper)"
            )
        self.primary_key: tuple[Column, ...] = tuple(pk)
        self.identity_class = self.base_mapper.class_

        self._finish_properties()
        self._instrument()
        from hermetic.orm.validators import install_validators

        install_validators(self)
        _all_mappers.add(self)

    # -- setup ------------------------------------------------------------------------
    def _resolve_column(self, spec: Any, properties: dict[str, Any] | None) -> Column:
        if isinstance(spec, str):
            tbl = self.local_table
            cols = getattr(tbl, "c", None)
            if cols is not None and spec in cols:
                return cols[spec]  # type: ignore[no-any-return]
            if properties and spec in properties:
                p = properties[spec]
                return p.columns[0] if isinstance(p, ColumnProperty) else p  # type: ignore[no-any-return]
            raise exc.ArgumentError(
                f"No column '{spec}' in the table of {self.class_.__name__} (named in "
                "__mapper_args__); use a column name of that table or pass the Column itself"
            )
        clause = getattr(spec, "__clause_element__", None)
        if clause is not None:
            spec = clause()
        if hasattr(spec, "column") and not isinstance(spec, Column):
            spec = spec.column
        return spec  # type: ignore[no-any-return]

    def _finish_properties(self) -> None:
        for key, prop in self._props.items():
            if (
                getattr(prop, "parent", None) is None
                or prop.parent is self
                or (self.inherits is not None and prop is not self.inherits._props.get(key))
            ):
                prop.instrument(self, key)
        self._col_to_key: dict[Any, str] = {}
        for key, prop in self._props.items():
            if isinstance(prop, ColumnProperty):
                for c in prop.columns:
                    if isinstance(c, Column):
                        self._col_to_key.setdefault(c, key)
        self._pk_keys: tuple[str, ...] = tuple(self._key_for_column(c) for c in self.primary_key)
        self._column_props = [p for p in self._props.values() if isinstance(p, ColumnProperty)]
        self._attr_keys: tuple[str, ...] = tuple(p.key for p in self._column_props)
        self._loaded_props = [p for p in self._column_props if not p.deferred]
        self.version_id_key = (
            self._key_for_column(self.version_id_col) if self.version_id_col is not None else None
        )
        self._polymorphic_key = (
            self._col_to_key.get(self.polymorphic_on)
            if isinstance(self.polymorphic_on, Column)
            else None
        )
        self._select_cache: Any = None

    def _key_for_column(self, column: Column) -> str:
        key = self._col_to_key.get(column)
        if key is None:
            raise orm_exc.UnmappedColumnError(
                f"Column '{column}' is not mapped by {self.class_.__name__}'s mapper"
            )
        return key

    def _instrument(self) -> None:
        cls = self.class_
        impls: dict[str, AttributeImpl] = {}
        for key, prop in self._props.items():
            impl = getattr(prop, "_impl_for", None)
            if impl is not None:
                attr_impl = impl(self)
            elif isinstance(prop, ColumnProperty):
                attr_impl = AttributeImpl(self, key)
                attr_impl.active_history = prop.active_history
            else:
                attr_impl = None
            if attr_impl is not None:
                impls[key] = attr_impl
            descriptor = getattr(prop, "_make_descriptor", None)
            if descriptor is not None:
                attr = descriptor(cls, key, attr_impl)
            else:
                attr = QueryableAttribute(cls, key, prop, attr_impl)
            setattr_existing = cls.__dict__.get(key)
            if (
                setattr_existing is not None
                and not isinstance(setattr_existing, (QueryableAttribute, MapperProperty))
                and not _replaceable(setattr_existing)
            ):
                # a plain Python descriptor (property, hybrid) of the user's wins
                continue
            type.__setattr__(cls, key, attr)
        cls._sa_impls = impls  # type: ignore[attr-defined]
        type.__setattr__(cls, "__mapper__", self)
        type.__setattr__(
            cls, "_sa_select_entity", _ClassLevel("_sa_select_entity", "_select_entity")
        )
        type.__setattr__(
            cls, "__clause_element__", _ClassLevel("__clause_element__", "__clause_element__")
        )
        instrument_class(cls)

    def _relationship_props(self) -> list[Any]:
        found = self.__dict__.get("_rel_cache")
        if found is None or found[0] != len(self._props):
            rels = [p for p in self._props.values() if p._is_relationship]
            found = self.__dict__["_rel_cache"] = (len(self._props), rels)
        return found[1]

    def _has_relationships(self) -> bool:
        return bool(self._relationship_props())

    def add_property(self, key: str, prop: Any) -> None:
        """Add a property to the mapping after the class is mapped
        (``User.n_orders = column_property(...)`` on a declarative class calls this)."""
        if isinstance(prop, Column):
            if prop.table is None:
                if not prop.name:
                    prop.name = prop.key = key
                self.local_table.append_column(prop)
            prop = ColumnProperty(prop)
        self._add_property(key, prop)

    def _add_property(self, key: str, prop: MapperProperty) -> None:
        """Add a property after mapping (a ``backref`` creates the other side)."""
        for mapper in self.self_and_descendants:
            mapper._props[key] = prop
        prop.instrument(self, key)
        for mapper in self.self_and_descendants:
            cls = mapper.class_
            impl_for = getattr(prop, "_impl_for", None)
            impl = impl_for(mapper) if impl_for is not None else None
            if impl is None and isinstance(prop, ColumnProperty):
                impl = AttributeImpl(mapper, key)
                impl.active_history = prop.active_history
            if impl is not None:
                cls._sa_impls = {**cls.__dict__.get("_sa_impls", {}), key: impl}  # type: ignore[attr-defined]
            make = getattr(prop, "_make_descriptor", None)
            attr = (
                make(cls, key, impl)
                if make is not None
                else QueryableAttribute(cls, key, prop, impl)
            )
            type.__setattr__(cls, key, attr)
            mapper._finish_properties()
        configure = getattr(prop, "_configure", None)
        if configure is not None and self._configured:
            configure()

    # -- configuration (relationships resolve their targets lazily) ---------------------
    def _check_configure(self) -> None:
        if not self._configured:
            configure_mappers()

    def _post_configure(self) -> None:
        self._configured = True
        for prop in list(self._props.values()):
            setup = getattr(prop, "_configure", None)
            if setup is not None:
                setup()

    # -- SQL ------------------------------------------------------------------------
    def __clause_element__(self) -> Any:
        return self.persist_selectable

    @property
    def selectable(self) -> Any:
        return self.persist_selectable

    @property
    def mapped_table(self) -> Any:
        return self.persist_selectable

    def _select_entity(self) -> Any:
        """For ``select(User)``: the columns to select, a FROM to add (joined
        inheritance) and criteria to add (single-table subclasses)."""
        cached = self._select_cache
        if cached is None:
            self._check_configure()
            columns = [p.select_column() for p in self._loaded_props]
            from_ = self.persist_selectable if isinstance(self.persist_selectable, Join) else None
            criteria = self._single_table_criteria()
            cached = self._select_cache = (columns, from_, criteria)
        return cached

    def _single_table_criteria(self) -> Any:
        if not self.single or self.polymorphic_on is None:
            return None
        idents = [m.polymorphic_identity for m in self.self_and_descendants]
        idents = [i for i in idents if i is not None]
        if not idents:
            return None
        return self.polymorphic_on.in_(idents)

    @property
    def c(self) -> ColumnCollection:
        return ColumnCollection(
            [p.columns[0] for p in self._column_props if isinstance(p.columns[0], Column)]
        )

    columns = c

    # -- introspection ------------------------------------------------------------------
    @property
    def entity(self) -> type:
        return self.class_

    @property
    def mapper(self) -> Mapper:
        return self

    @property
    def attrs(self) -> _PropView:
        self._check_configure()
        return _PropView(self._props)

    @property
    def all_orm_descriptors(self) -> _PropView:
        return _PropView({k: getattr(self.class_, k) for k in self._props})

    @property
    def column_attrs(self) -> _PropView:
        return _PropView({k: p for k, p in self._props.items() if isinstance(p, ColumnProperty)})

    @property
    def relationships(self) -> _PropView:
        self._check_configure()
        return _PropView({k: p for k, p in self._props.items() if p._is_relationship})

    @property
    def synonyms(self) -> _PropView:
        return _PropView({k: p for k, p in self._props.items() if p._is_synonym})

    def iterate_properties(self) -> Iterator[MapperProperty]:
        return iter(self._props.values())

    def get_property(self, key: str, _configure_mappers: bool = True) -> MapperProperty:
        try:
            return self._props[key]
        except KeyError:
            raise exc.InvalidRequestError(
                f"Mapper '{self}' has no property '{key}'. Its properties are: "
                f"{', '.join(self._props)}"
            ) from None

    def has_property(self, key: str) -> bool:
        return key in self._props

    def get_property_by_column(self, column: Column) -> MapperProperty:
        return self._props[self._key_for_column(column)]

    @property
    def self_and_descendants(self) -> list[Mapper]:
        out = [self]
        for m in self._dependents:
            out.extend(m.self_and_descendants)
        return out

    def iterate_to_root(self) -> Iterator[Mapper]:
        m: Mapper | None = self
        while m is not None:
            yield m
            m = m.inherits

    def isa(self, other: Mapper) -> bool:
        return other in self.iterate_to_root()

    def common_parent(self, other: Mapper) -> bool:
        return self.base_mapper is other.base_mapper

    # -- identity -----------------------------------------------------------------------
    def identity_key_from_primary_key(
        self, primary_key: Sequence[Any], identity_token: Any = None
    ) -> IdentityKey:
        return (self.identity_class, tuple(primary_key), identity_token)

    def primary_key_from_instance(self, instance: Any) -> tuple[Any, ...]:
        return tuple(getattr(instance, k) for k in self._pk_keys)

    def identity_key_from_instance(self, instance: Any) -> IdentityKey:
        state = instance_state(instance)
        if state.key is not None:
            return state.key
        return self.identity_key_from_primary_key(self.primary_key_from_instance(instance))

    def identity_key_from_row(self, row: Any, identity_token: Any = None) -> IdentityKey:
        mapping = row._mapping
        return (self.identity_class, tuple(mapping[c] for c in self.primary_key), identity_token)

    def _mapper_for_identity(self, identity: Any) -> Mapper:
        mapper = self.polymorphic_map.get(identity)
        if mapper is None:
            raise exc.InvalidRequestError(
                f"Row with identity '{identity}' in column {self.polymorphic_on} matches no "
                f"mapped subclass of {self.base_mapper.class_.__name__}; known identities: "
                f"{sorted(map(repr, self.polymorphic_map))}"
            )
        return mapper

    def __repr__(self) -> str:
        return f"<Mapper at {hex(id(self))}; {self.class_.__name__}>"

    def __str__(self) -> str:
        return f"Mapper[{self.class_.__name__}({getattr(self.local_table, 'name', '?')})]"


def _replaceable(obj: Any) -> bool:
    from hermetic.orm.properties import MappedColumn

    return isinstance(obj, (Column, MappedColumn)) or getattr(obj, "_sa_replaceable", False)


class _PropView:
    """A read-only, attribute- and key-accessible view of properties."""

    def __init__(self, props: dict[str, Any]) -> None:
        self._props = props

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["_props"][key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> Any:
        return self._props[key]

    def __contains__(self, key: object) -> bool:
        return key in self._props

    def __iter__(self) -> Iterator[Any]:
        return iter(self._props.values())

    def __len__(self) -> int:
        return len(self._props)

    def keys(self) -> list[str]:
        return list(self._props)

    def values(self) -> list[Any]:
        return list(self._props.values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._props.items())


def _mapper_of_class(cls: type) -> Mapper:
    mapper = cls.__dict__.get("__mapper__") or getattr(cls, "__mapper__", None)
    if not isinstance(mapper, Mapper):
        raise orm_exc.UnmappedClassError(cls)
    return mapper


def class_mapper(class_: type, configure: bool = True) -> Mapper:
    mapper = _mapper_of_class(class_)
    if configure:
        mapper._check_configure()
    return mapper


def object_mapper(instance: Any) -> Mapper:
    return instance_state(instance).mapper


_configuring = [False]


def configure_mappers() -> None:
    """Resolve every mapper's relationships (string targets, join conditions)."""
    if _configuring[0]:
        return
    _configuring[0] = True
    try:
        for mapper in list(_all_mappers):
            if not mapper._configured:
                mapper._post_configure()
    finally:
        _configuring[0] = False


def clear_mappers() -> None:
    for mapper in list(_all_mappers):
        if mapper.registry is not None:
            mapper.registry.dispose()
    _all_mappers.clear()


def _pk_criteria(mapper: Mapper, values: Sequence[Any]) -> Any:
    return and_(*[c == v for c, v in zip(mapper.primary_key, values, strict=False)])


def _is_table(obj: Any) -> bool:
    return isinstance(obj, Table)
