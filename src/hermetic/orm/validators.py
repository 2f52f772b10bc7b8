"""``@validates("name", ...)``: a method that checks or converts values assigned to
mapped attributes (it returns the value to store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def validates(
    *names: str, include_removes: bool = False, include_backrefs: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__sa_validators__ = names  # type: ignore[attr-defined]
        fn.__sa_include_removes__ = include_removes  # type: ignore[attr-defined]
        return fn

    return decorate


def install_validators(mapper: Any) -> None:
    """Attach the class's @validates methods to the attributes they name."""
    cls = mapper.class_
    impls = cls.__dict__.get("_sa_impls", {})
    for klass in reversed(cls.__mro__):
        for value in klass.__dict__.values():
            names = getattr(value, "__sa_validators__", None)
            if not names:
                continue
            for name in names:
                impl = impls.get(name)
                if impl is None:
                    from hermetic import exc

                    raise exc.InvalidRequestError(
                        f"@validates({name!r}) on {cls.__name__}.{value.__name__}: "
                        f"{cls.__name__} has no mapped attribute {name!r}"
                    )
                if getattr(impl, "is_collection", False):
                    impl.add_validator(
                        value, include_removes=getattr(value, "__sa_include_removes__", False)
                    )
                else:
                    if value not in impl.validators:
                        impl.validators.append(value)
                    impl._refresh_hooks()
