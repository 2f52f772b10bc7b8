"""ORM events: Session events, mapper events and attribute events, through
``hermetic.event.listen`` / ``listens_for`` like the Core's.

Targets: a Session class, instance, ``sessionmaker`` or ``scoped_session`` (session
events); a mapped class, a mapper, ``Mapper`` itself or an unmapped base class of mapped
classes (mapper events: every mapped subclass); ``User.name`` (attribute events).
Checking "does anyone listen" is one dict lookup, so unused events cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hermetic import exc
from hermetic.event.base import Dispatch, EventSpec

SESSION_EVENTS = EventSpec(
    {
        "before_flush": ("session", "flush_context", "instances"),
        "after_flush": ("session", "flush_context"),
        "after_flush_postexec": ("session", "flush_context"),
        "before_commit": ("session",),
        "after_commit": ("session",),
        "after_rollback": ("session",),
        "after_soft_rollback": ("session", "previous_transaction"),
        "after_begin": ("session", "transaction", "connection"),
        "after_transaction_create": ("session", "transaction"),
        "after_transaction_end": ("session", "transaction"),
        "after_attach": ("session", "instance"),
        "before_attach": ("session", "instance"),
        "do_orm_execute": ("orm_execute_state",),
        "transient_to_pending": ("session", "instance"),
        "pending_to_persistent": ("session", "instance"),
        "pending_to_transient": ("session", "instance"),
        "persistent_to_deleted": ("session", "instance"),
        "persistent_to_detached": ("session", "instance"),
        "detached_to_persistent": ("session", "instance"),
        "loaded_as_persistent": ("session", "instance"),
        "deleted_to_detached": ("session", "instance"),
        "deleted_to_persistent": ("session", "instance"),
        "after_bulk_update": ("update_context",),
        "after_bulk_delete": ("delete_context",),
    },
    retval=(),
)

MAPPER_EVENTS = (
    "before_insert",
    "after_insert",
    "before_update",
    "after_update",
    "before_delete",
    "after_delete",
    "load",
    "refresh",
    "init",
    "init_failure",
    "expire",
    "mapper_configured",
    "before_mapper_configured",
    "after_configured",
    "before_configured",
    "instrument_class",
)

ATTRIBUTE_EVENTS = (
    "set",
    "append",
    "remove",
    "init_scalar",
    "init_collection",
    "modified",
    "bulk_replace",
    "dispose_collection",
    "append_wo_mutation",
)


# -- session events -------------------------------------------------------------------

_class_dispatch: dict[type, Dispatch] = {}


def _session_class_dispatch(cls: type) -> Dispatch:
    d = _class_dispatch.get(cls)
    if d is None:
        parent = None
        for base in cls.__mro__[1:]:
            if getattr(base, "_is_session", False):
                parent = _session_class_dispatch(base)
                break
        d = _class_dispatch[cls] = Dispatch(SESSION_EVENTS, parent=parent)
    return d


def _session_dispatch(target: Any, identifier: str) -> Dispatch:
    if identifier not in SESSION_EVENTS.events:
        raise exc.InvalidRequestError(
            f"No such Session event {identifier!r}; Session events are: "
            f"{', '.join(sorted(SESSION_EVENTS.events))}"
        )
    if isinstance(target, type):
        return _session_class_dispatch(target)
    d: Dispatch | None = target.__dict__.get("_sa_dispatch")
    if d is None:
        d = target.__dict__["_sa_dispatch"] = Dispatch(
            SESSION_EVENTS, parent=_session_class_dispatch(type(target))
        )
    return d


def session_listeners(session: Any, name: str) -> list[Any]:
    d = session.__dict__.get("_sa_dispatch")
    if d is None:
        d = _class_dispatch.get(type(session))
        if d is None:
            return _EMPTY
    return getattr(d, name)  # type: ignore[no-any-return]


def has_session_listeners(session: Any, name: str) -> bool:
    return bool(session_listeners(session, name))


_EMPTY: list[Any] = []


class _SessionEventFinder:
    """``Session._event_dispatch``: works on the class and on instances."""

    def __get__(self, obj: Any, cls: Any) -> Callable[[str], Dispatch]:
        target = cls if obj is None else obj

        def find(identifier: str) -> Dispatch:
            return _session_dispatch(target, identifier)

        return find


# -- mapper events ----------------------------------------------------------------------


class _Box:
    """Listener lists keyed by event name, with the add/remove/contains protocol of
    :class:`hermetic.event.Dispatch`."""

    def __init__(self, names: tuple[str, ...], on_change: Callable[[], None]) -> None:
        self._names = names
        self._lists: dict[str, list[Any]] = {n: [] for n in names}
        self._on_change = on_change

    def _check(self, name: str) -> None:
        if name not in self._lists:
            raise exc.InvalidRequestError(
                f"No such event {name!r} here; available: {', '.join(self._names)}"
            )

    def add(
        self,
        name: str,
        fn: Any,
        *,
        once: bool = False,
        retval: bool = False,
        named: bool = False,
        insert: bool = False,
        **kw: Any,
    ) -> None:
        self._check(name)
        call = fn
        if retval:
            try:
                fn._retval = True
            except AttributeError:
                pass
        if insert:
            self._lists[name].insert(0, call)
        else:
            self._lists[name].append(call)
        self._on_change()

    def remove(self, name: str, fn: Any) -> bool:
        self._check(name)
        lst = self._lists[name]
        if fn in lst:
            lst.remove(fn)
            self._on_change()
            return True
        return False

    def contains(self, name: str, fn: Any) -> bool:
        return fn in self._lists.get(name, ())


_version = [0]


def _bump() -> None:
    _version[0] += 1


_mapper_boxes: dict[Any, _Box] = {}  # mapper / class / "Mapper" -> listeners


def _mapper_target_box(target: Any) -> _Box:
    box = _mapper_boxes.get(target)
    if box is None:
        box = _mapper_boxes[target] = _Box(MAPPER_EVENTS, _bump)
    return box


def mapper_listeners(mapper: Any, name: str) -> list[Any]:
    if not _mapper_boxes:
        return _EMPTY
    cache = mapper.__dict__.get("_event_cache")
    if cache is None or cache[0] != _version[0]:
        cache = (_version[0], {})
        mapper.__dict__["_event_cache"] = cache
    found = cache[1].get(name)
    if found is None:
        found = []
        from hermetic.orm.mapper import Mapper

        for key in ("Mapper", Mapper):
            box = _mapper_boxes.get(key)
            if box is not None:
                found.extend(box._lists.get(name, ()))
        for m in reversed(list(mapper.iterate_to_root())):
            box = _mapper_boxes.get(m)
            if box is not None:
                found.extend(box._lists.get(name, ()))
        for klass in reversed(mapper.class_.__mro__):
            box = _mapper_boxes.get(klass)
            if box is not None:
                found.extend(box._lists.get(name, ()))
        cache[1][name] = found
    return found  # type: ignore[no-any-return]


# -- attribute events ----------------------------------------------------------------------


def _attribute_box(attr: Any) -> Any:
    impl = attr.impl
    if impl is None:
        raise exc.InvalidRequestError(f"{attr} does not support attribute events")

    class _AttrBox:
        def add(
            self,
            name: str,
            fn: Any,
            *,
            once: bool = False,
            retval: bool = False,
            named: bool = False,
            insert: bool = False,
            **kw: Any,
        ) -> None:
            if retval:
                fn._retval = True
            if kw.get("active_history"):  # old values of unloaded attributes are loaded
                impl.active_history = True
            if name == "set":
                impl.set_listeners.append(fn)
            elif name == "init_scalar":
                impl.init_listeners.append(fn)
            elif name in ("append", "remove", "append_wo_mutation"):
                lst = getattr(impl, f"{name}_listeners", None)
                if lst is None:
                    raise exc.InvalidRequestError(
                        f"'{name}' events apply to collection relationships; {attr} is not one"
                    )
                lst.append(fn)
            elif name in ATTRIBUTE_EVENTS:
                getattr(impl, "other_listeners", {}).setdefault(name, []).append(fn)
            else:
                raise exc.InvalidRequestError(
                    f"No such attribute event {name!r}; available: {', '.join(ATTRIBUTE_EVENTS)}"
                )
            impl._refresh_hooks()

        def remove(self, name: str, fn: Any) -> bool:
            for lst_name in ("set_listeners", "init_listeners", f"{name}_listeners"):
                lst = getattr(impl, lst_name, None)
                if lst is not None and fn in lst:
                    lst.remove(fn)
                    impl._refresh_hooks()
                    return True
            return False

        def contains(self, name: str, fn: Any) -> bool:
            return any(
                fn in (getattr(impl, n, None) or ())
                for n in ("set_listeners", "init_listeners", f"{name}_listeners")
            )

    return _AttrBox()


def orm_event_dispatch(target: Any, identifier: str) -> Any:
    """Find the listener registry for an ORM target (used by hermetic.event)."""
    from hermetic.orm.attributes import QueryableAttribute
    from hermetic.orm.mapper import Mapper

    if isinstance(target, QueryableAttribute):
        return _attribute_box(target)
    if target is Mapper:
        return _mapper_target_box("Mapper")
    if isinstance(target, Mapper):
        return _mapper_target_box(target)
    if isinstance(target, type) and identifier in MAPPER_EVENTS:
        return _mapper_target_box(target)
    return None


class ORMExecuteState:
    """What a ``do_orm_execute`` listener sees (and may change)."""

    def __init__(
        self,
        session: Any,
        statement: Any,
        parameters: Any,
        execution_options: dict[str, Any],
        bind_arguments: Any,
    ) -> None:
        self.session = session
        self.statement = statement
        self.parameters = parameters
        self.execution_options = execution_options
        self.local_execution_options = execution_options
        self.bind_arguments = bind_arguments or {}
        self._result: Any = None

    @property
    def is_select(self) -> bool:
        return type(self.statement).__name__ in ("Select", "CompoundSelect")

    @property
    def is_orm_statement(self) -> bool:
        from hermetic.orm.loading import has_orm_entities

        return has_orm_entities(self.statement)

    @property
    def is_insert(self) -> bool:
        return type(self.statement).__name__ == "Insert"

    @property
    def is_update(self) -> bool:
        return type(self.statement).__name__ == "Update"

    @property
    def is_delete(self) -> bool:
        return type(self.statement).__name__ == "Delete"

    @property
    def is_column_load(self) -> bool:
        return False

    @property
    def is_relationship_load(self) -> bool:
        return bool(self.execution_options.get("_sa_relationship_load"))

    @property
    def user_defined_options(self) -> list[Any]:
        return list(getattr(self.statement, "_with_options", ()))

    def update_execution_options(self, **opts: Any) -> None:
        self.execution_options = {**self.execution_options, **opts}

    def invoke_statement(
        self,
        statement: Any = None,
        params: Any = None,
        execution_options: Any = None,
        bind_arguments: Any = None,
    ) -> Any:
        opts = dict(self.execution_options)
        if execution_options:
            opts.update(execution_options)
        return self.session._execute(
            statement if statement is not None else self.statement,
            params if params is not None else self.parameters,
            opts,
            bind_arguments or self.bind_arguments,
        )

    def _run_hooks(self) -> Any:
        for fn in session_listeners(self.session, "do_orm_execute"):
            result = fn(self)
            if result is not None:
                return result
        return None
