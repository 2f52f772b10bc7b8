"""Database URLs: the immutable ``URL`` tuple and ``make_url``.

The API matches ``sqlalchemy.engine.URL`` / ``sqlalchemy.engine.make_url`` in 2.0. A URL
string has the shape ``dialect+driver://username:password@host:port/database?key=value``.
Username, password and database are percent-decoded when parsed and percent-encoded when
rendered, so ``make_url(url.render_as_string(hide_password=False)) == url`` for any text
in those fields. ``str()`` and ``repr()`` never show the password. Bad input raises
``hermetic.exc.ArgumentError``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias
from urllib.parse import parse_qsl, quote_plus, unquote

from hermetic._util.collections import EMPTY_DICT, immutabledict
from hermetic.exc import ArgumentError, HermeticDeprecationWarning

__all__ = ["URL", "make_url"]

QueryValue: TypeAlias = str | tuple[str, ...]

_EXPECTED_SHAPE = "dialect+driver://user:password@host:port/database"
_MASK = "***"

# Characters that must be percent-encoded (besides "%" itself and unprintable characters)
# for a rendered URL to parse back to the same fields.
_USERINFO_RESERVED = frozenset(" :/@?#[]")
_DATABASE_RESERVED = frozenset("?#")


def _url_pattern(port: str) -> re.Pattern[str]:
    # The user-info group is greedy: when a string could be read either way, the text
    # before the "@" is taken as credentials, so a password is never shown as a host or
    # database name. The password may hold "/" and ":" unencoded but not "@" or "?".
    return re.compile(
        rf"""
        (?P<drivername>[\w+]+)://
        (?:
            (?P<username>[^:/?@]*)
            (?: : (?P<password>[^@?]*) )?
            @
        )?
        (?:
            \[ (?P<ipv6host>[^\]/?@]+) \]
          | (?P<host>[^:/?@\[\]]+)
        )?
        (?: : (?P<port>{port}) )?
        (?: / (?P<database>[^?]*) )?
        (?: \? (?P<query>.*) )?
        """,
        re.VERBOSE | re.DOTALL,
    )


_URL_RE = _url_pattern("[0-9]+")
# Same grammar with any port text allowed; used only to explain why a string failed.
_URL_RE_ANY_PORT = _url_pattern("[^/?@]*")


def _quote(text: str, reserved: frozenset[str]) -> str:
    """Percent-encode ``%``, the ``reserved`` characters and unprintable characters."""
    out: list[str] = []
    for char in text:
        if char == "%" or char in reserved or not char.isprintable():
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append(char)
    return "".join(out)


def _mask_unparsed(text: str) -> str:
    """Hide whatever may be a password in a string that did not parse.

    Everything between the first ``:`` of the part after ``://`` and the last ``@`` is
    replaced; hiding too much is preferred to showing a secret.
    """
    scheme_end = text.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    at = text.rfind("@", start)
    colon = text.find(":", start, at) if at >= 0 else -1
    if colon < 0:
        return text
    return f"{text[: colon + 1]}{_MASK}{text[at:]}"


def _check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _check_optional_str(value: object, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ArgumentError(f"{name} must be a string or None, got {type(value).__name__}")
    return value


def _check_port(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"port must be an integer or None, got {type(value).__name__}")
    return value


def _check_query_value(key: str, value: object) -> QueryValue:
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for element in value:
            if not isinstance(element, str):
                raise ArgumentError(
                    f"query value for key {key!r} must be a string or a sequence of "
                    f"strings; the sequence holds a {type(element).__name__}"
                )
        return tuple(value)
    raise ArgumentError(
        f"query value for key {key!r} must be a string or a sequence of strings, "
        f"got {type(value).__name__}"
    )


def _check_query(query: object) -> immutabledict[str, QueryValue]:
    if query is None:
        return EMPTY_DICT
    items: Iterable[Any]
    if isinstance(query, Mapping):
        items = query.items()
    elif isinstance(query, Sequence) and not isinstance(query, (str, bytes, bytearray)):
        items = query
    else:
        raise ArgumentError(
            f"query must be a mapping of strings to strings, got {type(query).__name__}"
        )
    checked: dict[str, QueryValue] = {}
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ArgumentError("query must be a mapping or a sequence of (key, value) pairs")
        key, value = item
        if not isinstance(key, str):
            raise ArgumentError(f"query keys must be strings, got {type(key).__name__}")
        checked[key] = _check_query_value(key, value)
    if isinstance(query, immutabledict) and checked == query:
        return query
    return immutabledict(checked)


def _as_list(value: QueryValue) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _group_pairs(pairs: Iterable[tuple[str, str | Sequence[str]]]) -> dict[str, QueryValue]:
    """Collect pairs into a dict; a key given once with a plain string keeps the string."""
    grouped: dict[str, list[str]] = {}
    single: dict[str, bool] = {}
    for key, value in pairs:
        _check_str(key, "query key")
        values = _as_list(_check_query_value(key, value))
        if key in grouped:
            grouped[key].extend(values)
            single[key] = False
        else:
            grouped[key] = values
            single[key] = isinstance(value, str)
    return {key: values[0] if single[key] else tuple(values) for key, values in grouped.items()}


def _parse_query_string(query_string: str) -> dict[str, QueryValue]:
    # Blank values are kept ("?a=" gives {"a": ""}) so rendered URLs parse back unchanged.
    return _group_pairs(parse_qsl(query_string, keep_blank_values=True))


class URL(NamedTuple):
    """The parts of a database URL, as an immutable, hashable tuple.

    Build one with ``URL.create()`` (which checks the argument types) or ``make_url()``
    (which parses a string); derive changed copies with ``set()`` and the
    ``update_query_*`` methods. Fields: ``drivername`` (``"dialect"`` or
    ``"dialect+driver"``), ``username``, ``password``, ``host``, ``port``, ``database``
    (all ``None`` when absent) and ``query``, an ``immutabledict`` whose values are strings,
    or tuples of strings for keys given more than once. Two URLs are equal when all fields
    are equal.
    """

    drivername: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: immutabledict[str, QueryValue]

    @classmethod
    def create(
        cls,
        drivername: str,
        username: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | None = None,
        database: str | None = None,
        query: Mapping[str, Sequence[str] | str] = EMPTY_DICT,
    ) -> URL:
        """Build a URL from its parts, checking each one's type.

        Give the username, password and database as plain text, not percent-encoded. The
        password, like in SQLAlchemy, is not type-checked: any object whose ``str()`` is
        the password is kept as is. Query values are strings or sequences of strings
        (stored as tuples).
        """
        return cls(
            _check_str(drivername, "drivername"),
            _check_optional_str(username, "username"),
            password,
            _check_optional_str(host, "host"),
            _check_port(port),
            _check_optional_str(database, "database"),
            _check_query(query),
        )

    def set(
        self,
        drivername: str | None = None,
        username: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | None = None,
        database: str | None = None,
        query: Mapping[str, Sequence[str] | str] | None = None,
    ) -> URL:
        """Return a copy with the given parts replaced; ``None`` leaves a part unchanged.

        To clear a part, use ``url._replace(part=None)``.
        """
        changes: dict[str, Any] = {}
        if drivername is not None:
            changes["drivername"] = _check_str(drivername, "drivername")
        if username is not None:
            changes["username"] = _check_str(username, "username")
        if password is not None:
            changes["password"] = password
        if host is not None:
            changes["host"] = _check_str(host, "host")
        if port is not None:
            changes["port"] = _check_port(port)
        if database is not None:
            changes["database"] = _check_str(database, "database")
        if query is not None:
            changes["query"] = _check_query(query)
        return self._replace(**changes) if changes else self

    def update_query_string(self, query_string: str, append: bool = False) -> URL:
        """Merge ``"a=1&b=2"`` (a leading ``?`` is allowed) into the query.

        With ``append=False`` the keys given replace existing values; with ``append=True``
        their values are added after the existing ones.
        """
        _check_str(query_string, "query_string")
        return self.update_query_pairs(
            parse_qsl(query_string.removeprefix("?"), keep_blank_values=True), append
        )

    def update_query_pairs(
        self,
        key_value_pairs: Iterable[tuple[str, str | Sequence[str]]],
        append: bool = False,
    ) -> URL:
        """Merge ``(key, value)`` pairs into the query; see ``update_query_string``.

        A key repeated among the pairs gets a tuple of all its values.
        """
        new = _group_pairs(key_value_pairs)
        merged: dict[str, QueryValue] = dict(self.query)
        for key, value in new.items():
            if append and key in merged:
                merged[key] = (*_as_list(merged[key]), *_as_list(value))
            else:
                merged[key] = value
        return self._replace(query=immutabledict(merged))

    def update_query_dict(
        self, query_parameters: Mapping[str, str | Sequence[str]], append: bool = False
    ) -> URL:
        """Merge a mapping into the query; see ``update_query_string``."""
        return self.update_query_pairs(query_parameters.items(), append)

    def difference_update_query(self, names: Iterable[str]) -> URL:
        """Return a copy without the given query keys (``self`` if none is present)."""
        removed = frozenset(names)
        if removed.isdisjoint(self.query):
            return self
        kept = {key: value for key, value in self.query.items() if key not in removed}
        return self._replace(query=immutabledict(kept))

    @property
    def normalized_query(self) -> immutabledict[str, tuple[str, ...]]:
        """The query with every value as a tuple of strings."""
        return immutabledict({key: tuple(_as_list(value)) for key, value in self.query.items()})

    def translate_connect_args(
        self, names: list[str] | None = None, **kw: str | None
    ) -> dict[str, Any]:
        """Return host, database, username, password and port as a dict of keyword args.

        Keyword arguments rename keys (``username="user"`` puts the username under
        ``"user"``; a ``None`` name drops that part). Parts that are ``None`` or empty are
        left out and the password is passed through ``str()``. ``names`` is the deprecated
        positional form: new names for host, database, username, password, port in order.
        """
        if names is not None:
            warnings.warn(
                "The 'names' argument of URL.translate_connect_args() is deprecated; "
                "pass keyword arguments such as username='user' instead",
                HermeticDeprecationWarning,
                stacklevel=2,
            )
        positional = list(names or ())
        translated: dict[str, Any] = {}
        for index, part in enumerate(("host", "database", "username", "password", "port")):
            if index < len(positional):
                key: str | None = positional[index]
            else:
                key = kw.get(part, part)
            value = getattr(self, part)
            if key is None or not value:
                continue
            translated[key] = str(value) if part == "password" else value
        return translated

    def get_backend_name(self) -> str:
        """The dialect part of ``drivername``: ``"postgresql"`` for ``"postgresql+psycopg"``."""
        return self.drivername.partition("+")[0]

    def get_driver_name(self) -> str | None:
        """The driver part of ``drivername``, or ``None`` when it names no driver.

        SQLAlchemy loads the dialect to report its default driver when none is named;
        hermetic reads only the URL, so ``"postgresql"`` gives ``None`` here.
        """
        return self.drivername.partition("+")[2] or None

    def render_as_string(self, hide_password: bool = True) -> str:
        """Render the URL as a string, with the password as ``***`` unless told otherwise.

        ``make_url()`` parses the result (with ``hide_password=False``) back to an equal URL.
        """
        parts = [self.drivername, "://"]
        if self.username is not None:
            parts.append(_quote(self.username, _USERINFO_RESERVED))
            if self.password is not None:
                password = (
                    _MASK if hide_password else _quote(str(self.password), _USERINFO_RESERVED)
                )
                parts.append(f":{password}")
            parts.append("@")
        if self.host is not None:
            parts.append(f"[{self.host}]" if ":" in self.host else self.host)
        if self.port is not None:
            parts.append(f":{self.port}")
        if self.database is not None:
            parts.append(f"/{_quote(self.database, _DATABASE_RESERVED)}")
        if self.query:
            rendered = "&".join(
                f"{quote_plus(key)}={quote_plus(value)}"
                for key in sorted(self.query)
                for value in _as_list(self.query[key])
            )
            parts.append(f"?{rendered}")
        return "".join(parts)

    def __str__(self) -> str:
        return self.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return self.render_as_string(hide_password=True)

    def __copy__(self) -> URL:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> URL:
        return self


def _parse_url(text: str) -> URL:
    match = _URL_RE.fullmatch(text)
    if match is None:
        shown = _mask_unparsed(text)
        hint = ""
        if shown != text or text.count("@") > 1:
            hint = (
                "; characters such as '@', ':', '/' and '?' in the username or password "
                "must be percent-encoded ('@' as %40)"
            )
        if _URL_RE_ANY_PORT.fullmatch(text) is not None:
            raise ArgumentError(
                f"Could not parse a database URL from {shown!r}: the port must be a "
                f"number, as in host:5432{hint}"
            )
        raise ArgumentError(
            f"Could not parse a database URL from {shown!r}; expected {_EXPECTED_SHAPE}{hint}"
        )

    def decoded(group: str) -> str | None:
        value = match.group(group)
        return None if value is None else unquote(value)

    port = match.group("port")
    query = match.group("query")
    return URL(
        match.group("drivername"),
        decoded("username"),
        decoded("password"),
        match.group("ipv6host") or match.group("host"),
        None if port is None else int(port),
        decoded("database"),
        immutabledict(_parse_query_string(query)) if query else EMPTY_DICT,
    )


def make_url(name_or_url: str | URL) -> URL:
    """Return ``name_or_url`` if it is a ``URL``; parse it if it is a string.

    ``ArgumentError`` is raised for any other type and for a string that does not have the
    shape ``dialect+driver://user:password@host:port/database?key=value``; the message
    shows the string with the password masked.
    """
    if isinstance(name_or_url, URL):
        return name_or_url
    if isinstance(name_or_url, str):
        return _parse_url(name_or_url)
    raise ArgumentError(
        f"make_url() expects a URL string or a URL object, got {type(name_or_url).__name__}"
    )
