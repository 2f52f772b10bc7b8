"""Association proxies (``hermetic.ext.associationproxy``): an attribute that shows one
attribute of the objects a relationship refers to.

``Post.tags = association_proxy("post_tags", "tag")`` makes ``post.tags`` a live view
of ``[pt.tag for pt in post.post_tags]``: reading goes through the relationship, and
``post.tags.append(tag)`` creates the association object (``creator(tag)``, or
``PostTag(tag=tag)`` by default) and appends it to ``post.post_tags``. A relationship
holding one object gives a scalar proxy: ``post_tag.tag_name`` reads
``post_tag.tag.name``; assigning creates the target when there is none.

The views keep no state of their own (each access builds a new one around the
relationship's collection), so there is nothing to go stale and no reference cycle
between an object and its proxy. On the class, the proxy builds SQL through the
relationship: ``Post.tags.any(Tag.name == "x")``, ``Post.tag_names.contains("x")``,
``PostTag.tag_name == "x"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar, overload

from hermetic import exc

__all__ = [
    "ASSOCIATION_PROXY",
    "AssociationProxy",
    "AssociationProxyExtensionType",
    "AssociationProxyInstance",
    "association_proxy",
]

_T = TypeVar("_T")


class AssociationProxyExtensionType:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    ASSOCIATION_PROXY: AssociationProxyExtensionType


ASSOCIATION_PROXY = AssociationProxyExtensionType("ASSOCIATION_PROXY")
AssociationProxyExtensionType.ASSOCIATION_PROXY = ASSOCIATION_PROXY


class AssociationProxy(Generic[_T]):
    """The descriptor :func:`association_proxy` returns."""

    is_attribute = True
    extension_type = ASSOCIATION_PROXY

    def __init__(
        self,
        target_collection: str,
        attr: str,
        *,
        creator: Callable[..., Any] | None = None,
        getset_factory: Callable[..., Any] | None = None,
        proxy_factory: Callable[..., Any] | None = None,
        proxy_bulk_set: Callable[..., Any] | None = None,
        info: dict[Any, Any] | None = None,
        cascade_scalar_deletes: bool = False,
        create_on_none_assignment: bool = False,
    ) -> None:
        if getset_factory is not None or proxy_factory is not None:
            raise NotImplementedError(
                "association_proxy(getset_factory=/proxy_factory=) is not supported; "
                "use creator= for custom construction"
            )
        self.target_collection = target_collection
        self.value_attr = attr
        self.creator = creator
        self.proxy_bulk_set = proxy_bulk_set
        self.info = dict(info or {})
        self.cascade_scalar_deletes = cascade_scalar_deletes
        self.create_on_none_assignment = create_on_none_assignment
        self.key = f"_AssociationProxy_{target_collection}_{id(self)}"
        self._name: str | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: Any) -> AssociationProxyInstance: ...

    @overload
    def __get__(self, obj: object, owner: Any) -> _T: ...

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self.for_class(owner)
        target = getattr(obj, self.target_collection)
        if _is_collection(target):
            return _view_for(self, obj, target)
        if target is None:
            return None
        return getattr(target, self.value_attr)

    def __set__(self, obj: Any, value: Any) -> None:
        target = getattr(obj, self.target_collection)
        if _is_collection(target):
            if self.proxy_bulk_set is not None:
                self.proxy_bulk_set(_view_for(self, obj, target), value)
                return
            view = _view_for(self, obj, target)
            if view is value:
                return
            items = list(value.items()) if isinstance(value, dict) else list(value)
            view.clear()
            if isinstance(view, _AssociationDict):
                for k, v in items:
                    view[k] = v
            else:
                for v in items:
                    view._add(v)
            return
        if target is None:
            if value is None and not self.create_on_none_assignment:
                return
            setattr(obj, self.target_collection, self._create(obj, value))
        else:
            setattr(target, self.value_attr, value)

    def __delete__(self, obj: Any) -> None:
        target = getattr(obj, self.target_collection)
        if target is None:
            return
        if _is_collection(target):
            raise exc.InvalidRequestError(
                f"del on the collection proxy {self._describe()}: clear() it instead"
            )
        if self.cascade_scalar_deletes:
            setattr(obj, self.target_collection, None)
        else:
            delattr(target, self.value_attr)

    def _create(self, owner: Any, *args: Any) -> Any:
        if self.creator is not None:
            return self.creator(*args)
        rel = _relationship(type(owner), self.target_collection)
        target_cls = rel.prop.mapper.class_
        if len(args) == 2:  # dict proxies: creator(key, value)
            raise exc.InvalidRequestError(
                f"{self._describe()}: a dict proxy needs creator=lambda key, value: ..."
            )
        return target_cls(**{self.value_attr: args[0]})

    def for_class(self, class_: type, obj: Any = None) -> AssociationProxyInstance:
        return AssociationProxyInstance(self, class_)

    def _describe(self) -> str:
        return f"association_proxy({self.target_collection!r}, {self.value_attr!r})"

    def __repr__(self) -> str:
        return f"AssociationProxy({self.target_collection!r}, {self.value_attr!r})"


def association_proxy(
    target_collection: str,
    attr: str,
    *,
    creator: Callable[..., Any] | None = None,
    getset_factory: Callable[..., Any] | None = None,
    proxy_factory: Callable[..., Any] | None = None,
    proxy_bulk_set: Callable[..., Any] | None = None,
    info: dict[Any, Any] | None = None,
    cascade_scalar_deletes: bool = False,
    create_on_none_assignment: bool = False,
    **dataclass_kw: Any,
) -> AssociationProxy[Any]:
    """A proxy to attribute ``attr`` of the object(s) of relationship ``target_collection``."""
    return AssociationProxy(
        target_collection,
        attr,
        creator=creator,
        getset_factory=getset_factory,
        proxy_factory=proxy_factory,
        proxy_bulk_set=proxy_bulk_set,
        info=info,
        cascade_scalar_deletes=cascade_scalar_deletes,
        create_on_none_assignment=create_on_none_assignment,
    )


def _is_collection(value: Any) -> bool:
    return isinstance(value, (list, set, dict))


def _relationship(cls: type, key: str) -> Any:
    attr = getattr(cls, key, None)
    prop = getattr(attr, "prop", None)
    if prop is None or not getattr(prop, "_is_relationship", False):
        raise exc.InvalidRequestError(
            f"association proxy on {cls.__name__}: '{key}' is not a relationship of the class"
        )
    prop.parent._check_configure()
    return attr


def _view_for(proxy: AssociationProxy[Any], owner: Any, collection: Any) -> Any:
    if isinstance(collection, dict):
        return _AssociationDict(proxy, owner, collection)
    if isinstance(collection, set):
        return _AssociationSet(proxy, owner, collection)
    return _AssociationList(proxy, owner, collection)


class _AssociationCollection:
    def __init__(self, proxy: AssociationProxy[Any], owner: Any, collection: Any) -> None:
        self._proxy = proxy
        self._owner = owner

    @property
    def _col(self) -> Any:
        # read through each time: the relationship may have been assigned a new collection
        return getattr(self._owner, self._proxy.target_collection)

    def _get(self, member: Any) -> Any:
        return getattr(member, self._proxy.value_attr)

    def _set(self, member: Any, value: Any) -> None:
        setattr(member, self._proxy.value_attr, value)

    def _create(self, *args: Any) -> Any:
        return self._proxy._create(self._owner, *args)

    def __len__(self) -> int:
        return len(self._col)

    def __bool__(self) -> bool:
        return bool(self._col)

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return repr(list(self))

    __hash__ = None  # type: ignore[assignment]


class _AssociationList(_AssociationCollection):
    """``post.tags``: a list of ``pt.tag`` for ``pt`` in ``post.post_tags``."""

    def __iter__(self) -> Iterator[Any]:
        return (self._get(m) for m in list(self._col))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._get(m) for m in self._col[index]]
        return self._get(self._col[index])

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            members = self._col[index]
            values = list(value)
            if len(values) != len(members):
                raise ValueError(
                    "association list proxy: slice assignment must keep the length "
                    f"({len(members)} members, {len(values)} values)"
                )
            for m, v in zip(members, values, strict=True):
                self._set(m, v)
            return
        self._set(self._col[index], value)

    def __delitem__(self, index: Any) -> None:
        del self._col[index]

    def __contains__(self, value: object) -> bool:
        return any(self._get(m) == value for m in self._col)

    def _add(self, value: Any) -> None:
        self._col.append(self._create(value))

    def append(self, value: Any) -> None:
        self._add(value)

    def extend(self, values: Iterable[Any]) -> None:
        for v in list(values):
            self._add(v)

    def insert(self, index: int, value: Any) -> None:
        self._col.insert(index, self._create(value))

    def remove(self, value: Any) -> None:
        for i, m in enumerate(self._col):
            if self._get(m) == value:
                del self._col[i]
                return
        raise ValueError(f"{value!r} is not in the association list")

    def pop(self, index: int = -1) -> Any:
        return self._get(self._col.pop(index))

    def clear(self) -> None:
        self._col.clear()

    def index(self, value: Any, *args: Any) -> int:
        return list(self).index(value, *args)

    def count(self, value: Any) -> int:
        return sum(1 for v in self if v == value)

    def copy(self) -> list[Any]:
        return list(self)

    def __iadd__(self, values: Iterable[Any]) -> _AssociationList:
        self.extend(values)
        return self

    def __add__(self, other: Iterable[Any]) -> list[Any]:
        return list(self) + list(other)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _AssociationCollection):
            other = list(other)
        return list(self) == other

    def __ne__(self, other: object) -> bool:
        return not self == other


class _AssociationSet(_AssociationCollection):
    """A set-like view over a set collection."""

    def __iter__(self) -> Iterator[Any]:
        return (self._get(m) for m in list(self._col))

    def __contains__(self, value: object) -> bool:
        return any(self._get(m) == value for m in self._col)

    def _add(self, value: Any) -> None:
        if value not in self:
            self._col.add(self._create(value))

    def add(self, value: Any) -> None:
        self._add(value)

    def update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for v in list(other):
                self._add(v)

    def discard(self, value: Any) -> None:
        for m in list(self._col):
            if self._get(m) == value:
                self._col.remove(m)
                return

    def remove(self, value: Any) -> None:
        if value not in self:
            raise KeyError(value)
        self.discard(value)

    def pop(self) -> Any:
        return self._get(self._col.pop())

    def clear(self) -> None:
        self._col.clear()

    def copy(self) -> set[Any]:
        return set(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _AssociationCollection):
            other = set(other)
        return set(self) == other

    def __ne__(self, other: object) -> bool:
        return not self == other


class _AssociationDict(_AssociationCollection):
    """A dict-like view over a keyed-dict collection: ``view[key]`` is
    ``collection[key].<attr>``; ``view[key] = v`` creates with ``creator(key, v)``."""

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._col))

    def __getitem__(self, key: Any) -> Any:
        return self._get(self._col[key])

    def __setitem__(self, key: Any, value: Any) -> None:
        if key in self._col:
            self._set(self._col[key], value)
        else:
            self._col[key] = self._create(key, value)

    def __delitem__(self, key: Any) -> None:
        del self._col[key]

    def __contains__(self, key: object) -> bool:
        return key in self._col

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self._col else default

    def keys(self) -> list[Any]:
        return list(self._col.keys())

    def values(self) -> list[Any]:
        return [self._get(m) for m in self._col.values()]

    def items(self) -> list[tuple[Any, Any]]:
        return [(k, self._get(m)) for k, m in self._col.items()]

    def clear(self) -> None:
        self._col.clear()

    def update(self, *args: Any, **kw: Any) -> None:
        for k, v in dict(*args, **kw).items():
            self[k] = v

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self._col:
            if default:
                return default[0]
            raise KeyError(key)
        value = self[key]
        del self._col[key]
        return value

    def copy(self) -> dict[Any, Any]:
        return dict(self.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _AssociationDict):
            other = other.copy()
        return dict(self.items()) == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class AssociationProxyInstance:
    """``Post.tags`` (class access): SQL criteria through the relationship."""

    def __init__(self, parent: AssociationProxy[Any], owning_class: type) -> None:
        self.parent = parent
        self.owning_class = owning_class
        self.target_collection = parent.target_collection
        self.value_attr = parent.value_attr

    @property
    def _rel(self) -> Any:
        return _relationship(self.owning_class, self.target_collection)

    @property
    def target_class(self) -> type:
        return self._rel.prop.mapper.class_  # type: ignore[no-any-return]

    @property
    def remote_attr(self) -> Any:
        return getattr(self.target_class, self.value_attr)

    @property
    def local_attr(self) -> Any:
        return self._rel

    @property
    def attr(self) -> tuple[Any, Any]:
        return (self.local_attr, self.remote_attr)

    @property
    def scalar(self) -> bool:
        return not self._rel.prop.uselist

    @property
    def _value_is_relationship(self) -> bool:
        prop = getattr(self.remote_attr, "prop", None)
        return bool(getattr(prop, "_is_relationship", False))

    def _through(self, criterion: Any) -> Any:
        rel = self._rel
        return rel.any(criterion) if rel.prop.uselist else rel.has(criterion)

    def any(self, criterion: Any = None, **kw: Any) -> Any:
        """Some proxied value matches: through the relationship, then the target's
        relationship (``any``/``has``) when the proxied attribute is one."""
        remote = self.remote_attr
        if self._value_is_relationship:
            inner = (
                remote.any(criterion, **kw) if remote.prop.uselist else remote.has(criterion, **kw)
            )
            return self._through(inner)
        if kw:
            raise exc.ArgumentError(
                f"{self.parent._describe()}.any(): keyword criteria apply to related objects; "
                f"'{self.value_attr}' is a column"
            )
        return self._through(criterion)

    def has(self, criterion: Any = None, **kw: Any) -> Any:
        return self.any(criterion, **kw)

    def contains(self, other: Any) -> Any:
        remote = self.remote_attr
        if self._value_is_relationship:
            if remote.prop.uselist:
                return self._through(remote.contains(other))
            return self._through(remote == other)
        return self._through(remote == other)

    def __eq__(self, other: Any) -> Any:
        if not self.scalar:
            raise exc.InvalidRequestError(
                f"{self.parent._describe()} proxies a collection; use .contains(value) or "
                ".any(criterion)"
            )
        if other is None:
            from hermetic.sql.elements import or_

            return or_(self._rel.has(self.remote_attr.is_(None)), self._rel == None)  # noqa: E711
        return self._rel.has(self.remote_attr == other)

    def __ne__(self, other: Any) -> Any:
        from hermetic.sql.elements import not_

        return not_(self.__eq__(other))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"AssociationProxyInstance({self.owning_class.__name__}.{self.parent._name})"
