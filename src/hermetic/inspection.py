"""``hermetic.inspect()``: the inspection entry point.

``inspect(User)`` gives the Mapper, ``inspect(obj)`` the object's InstanceState,
``inspect(engine)`` / ``inspect(connection)`` an Inspector for reflection.
"""

from __future__ import annotations

from typing import Any

from hermetic import exc


def inspect(subject: Any, raiseerr: bool = True) -> Any:
    if getattr(subject, "_is_inspectable_self", False) and not isinstance(subject, type):
        return subject
    if isinstance(subject, type):
        mapper = getattr(subject, "__mapper__", None)
        if getattr(mapper, "_is_mapper", False):
            return mapper
    else:
        inspector = getattr(subject, "_hermetic_inspector", None)
        if inspector is not None:
            return inspector()
        mapper = getattr(type(subject), "__mapper__", None)
        if getattr(mapper, "_is_mapper", False):
            from hermetic.orm.state import instance_state

            return instance_state(subject)
        aliased = getattr(subject, "_aliased_insp", None)
        if aliased is not None:
            return aliased
    if raiseerr:
        raise exc.NoInspectionAvailable(
            f"No inspection system is available for object of type {type(subject).__name__}; "
            "inspect() takes a mapped class, a mapped object, an Engine or a Connection"
        )
    return None
