"""Tests for hermetic.engine.url (URL, make_url) and hermetic._util.collections.immutabledict."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hermetic._util.collections import immutabledict
from hermetic.engine import url as url_module
from hermetic.engine.url import URL, make_url
from hermetic.exc import ArgumentError, HermeticDeprecationWarning

# --------------------------------------------------------------------------- parsing

PARSE_CASES: list[tuple[str, tuple[Any, ...]]] = [
    (
        "postgresql+psycopg://scott:tiger@localhost:5432/test",
        ("postgresql+psycopg", "scott", "tiger", "localhost", 5432, "test", {}),
    ),
    (
        "postgresql://scott:tiger@localhost/test",
        ("postgresql", "scott", "tiger", "localhost", None, "test", {}),
    ),
    (
        "postgresql+psycopg2://scott@db.example.com:6543/app?sslmode=require",
        (
            "postgresql+psycopg2",
            "scott",
            None,
            "db.example.com",
            6543,
            "app",
            {"sslmode": "require"},
        ),
    ),
    ("postgresql://localhost", ("postgresql", None, None, "localhost", None, None, {})),
    ("postgresql://localhost/", ("postgresql", None, None, "localhost", None, "", {})),
    ("postgresql:///test", ("postgresql", None, None, None, None, "test", {})),
    ("postgresql://@localhost/test", ("postgresql", "", None, "localhost", None, "test", {})),
    ("postgresql://:pw@localhost/test", ("postgresql", "", "pw", "localhost", None, "test", {})),
    ("postgresql://u:@localhost/test", ("postgresql", "u", "", "localhost", None, "test", {})),
    ("sqlite://", ("sqlite", None, None, None, None, None, {})),
    ("sqlite:///:memory:", ("sqlite", None, None, None, None, ":memory:", {})),
    ("sqlite:///relative/path.db", ("sqlite", None, None, None, None, "relative/path.db", {})),
    ("sqlite:////abs/path.db", ("sqlite", None, None, None, None, "/abs/path.db", {})),
    (
        "sqlite:///file:path?mode=ro&uri=true",
        ("sqlite", None, None, None, None, "file:path", {"mode": "ro", "uri": "true"}),
    ),
    (
        "sqlite+pysqlite:///C:\\data\\app.db",
        ("sqlite+pysqlite", None, None, None, None, "C:\\data\\app.db", {}),
    ),
    ("postgresql://[::1]/test", ("postgresql", None, None, "::1", None, "test", {})),
    (
        "postgresql://u:p@[2001:db8::7]:5433/test",
        ("postgresql", "u", "p", "2001:db8::7", 5433, "test", {}),
    ),
    (
        "postgresql://u%40corp:p%40ss%3Aw%2Frd%25@host/test",
        ("postgresql", "u@corp", "p@ss:w/rd%", "host", None, "test", {}),
    ),
    # unencoded "/" and ":" in a password are accepted, as in SQLAlchemy
    ("postgresql://u:pa/ss:w@host/test", ("postgresql", "u", "pa/ss:w", "host", None, "test", {})),
    (
        "postgresql://h/db?a=1&a=2&b=x+y%20z&c=",
        ("postgresql", None, None, "h", None, "db", {"a": ("1", "2"), "b": "x y z", "c": ""}),
    ),
    # an "@" in the query does not turn the host into a username
    (
        "postgresql://host:5432/db?application_name=me@work",
        ("postgresql", None, None, "host", 5432, "db", {"application_name": "me@work"}),
    ),
    ("postgresql://h/d%20b%3Fx", ("postgresql", None, None, "h", None, "d b?x", {})),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse(text: str, expected: tuple[Any, ...]) -> None:
    url = make_url(text)
    assert tuple(url) == expected
    assert isinstance(url.query, immutabledict)


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_render_parse_round_trip(text: str, expected: tuple[Any, ...]) -> None:
    url = make_url(text)
    assert make_url(url.render_as_string(hide_password=False)) == url


@pytest.mark.parametrize(
    "text",
    [
        "postgresql+psycopg://scott:tiger@localhost:5432/test",
        "postgresql://scott:tiger@localhost/test",
        "postgresql+psycopg2://scott@db.example.com:6543/app?sslmode=require",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///relative/path.db",
        "sqlite:////abs/path.db",
        "sqlite:///file:path?mode=ro&uri=true",
        "postgresql://u:p@[2001:db8::7]:5433/test",
        "postgresql://u%40corp:p%40ss%3Aw%2Frd%25@host/test",
        "postgresql://h/db?a=1&a=2&b=x",
    ],
)
def test_canonical_strings_render_unchanged(text: str) -> None:
    assert make_url(text).render_as_string(hide_password=False) == text


def test_repeated_query_keys_become_tuples() -> None:
    url = make_url("postgresql://h/db?opt=a&opt=b&opt=c&single=1")
    assert url.query == {"opt": ("a", "b", "c"), "single": "1"}
    assert url.normalized_query == {"opt": ("a", "b", "c"), "single": ("1",)}
    assert str(url) == "postgresql://h/db?opt=a&opt=b&opt=c&single=1"


def test_query_rendered_with_sorted_keys_and_encoding() -> None:
    url = URL.create("pg", host="h", query={"z": "1", "a": ["x y", "&="]})
    assert url.render_as_string() == "pg://h?a=x+y&a=%26%3D&z=1"
    assert make_url(url.render_as_string()) == url


def test_make_url_returns_url_unchanged() -> None:
    url = URL.create("sqlite")
    assert make_url(url) is url


def test_special_character_password_round_trip() -> None:
    password = "p@ss:w/rd%?#[] &+=ü"
    url = URL.create("postgresql+psycopg", "user name", password, "host", 5432, "db")
    rendered = url.render_as_string(hide_password=False)
    assert rendered.startswith("postgresql+psycopg://user%20name:")
    assert "@host:5432/db" in rendered
    parsed = make_url(rendered)
    assert parsed == url
    assert parsed.password == password


# --------------------------------------------------------------------------- masking


def test_str_and_repr_mask_the_password() -> None:
    url = make_url("postgresql+psycopg://scott:tiger@localhost:5432/test")
    assert str(url) == "postgresql+psycopg://scott:***@localhost:5432/test"
    assert repr(url) == str(url)
    assert "tiger" not in repr([url])
    assert url.render_as_string() == str(url)
    assert url.render_as_string(hide_password=False) == (
        "postgresql+psycopg://scott:tiger@localhost:5432/test"
    )


def test_empty_password_is_masked_too() -> None:
    assert str(make_url("pg://u:@h/db")) == "pg://u:***@h/db"


def test_no_password_renders_no_mask() -> None:
    assert str(make_url("pg://u@h/db")) == "pg://u@h/db"


def test_non_str_password_is_stringified() -> None:
    class Secret:
        def __str__(self) -> str:
            return "s3cret"

    url = URL.create("pg", "u", Secret(), "h")  # type: ignore[arg-type]
    assert url.render_as_string(hide_password=False) == "pg://u:s3cret@h"
    assert str(url) == "pg://u:***@h"
    assert url.translate_connect_args()["password"] == "s3cret"


# --------------------------------------------------------------------------- create


def test_create_defaults() -> None:
    url = URL.create("sqlite")
    assert tuple(url) == ("sqlite", None, None, None, None, None, {})
    assert isinstance(url.query, immutabledict)


def test_create_query_sequences_become_tuples() -> None:
    url = URL.create("pg", query={"a": ["1", "2"], "b": "3", "c": ("4",)})
    assert url.query == {"a": ("1", "2"), "b": "3", "c": ("4",)}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drivername": 5}, "drivername must be a string, got int"),
        ({"drivername": None}, "drivername must be a string, got NoneType"),
        ({"drivername": "pg", "username": 1}, "username must be a string or None, got int"),
        ({"drivername": "pg", "host": b"h"}, "host must be a string or None, got bytes"),
        ({"drivername": "pg", "database": 3.5}, "database must be a string or None"),
        ({"drivername": "pg", "port": "5432"}, "port must be an integer or None, got str"),
        ({"drivername": "pg", "port": 5432.0}, "port must be an integer or None, got float"),
        ({"drivername": "pg", "port": True}, "port must be an integer or None, got bool"),
        ({"drivername": "pg", "query": {"a": 1}}, "query value for key 'a'"),
        ({"drivername": "pg", "query": {"a": ["x", 2]}}, "query value for key 'a'"),
        ({"drivername": "pg", "query": {"a": b"x"}}, "got bytes"),
        ({"drivername": "pg", "query": {1: "x"}}, "query keys must be strings, got int"),
        ({"drivername": "pg", "query": "a=1"}, "query must be a mapping"),
    ],
)
def test_create_rejects_bad_types(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ArgumentError, match=message.replace("(", r"\(")):
        URL.create(**kwargs)


def test_direct_field_assignment_is_impossible() -> None:
    url = URL.create("pg")
    with pytest.raises(AttributeError):
        url.host = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        url.query["a"] = "b"


# --------------------------------------------------------------------------- set / query


def test_set_replaces_given_parts_only() -> None:
    url = make_url("postgresql://scott:tiger@localhost/test?a=1")
    changed = url.set(drivername="postgresql+psycopg", host="db", port=6543, password="new")
    assert tuple(changed) == (
        "postgresql+psycopg",
        "scott",
        "new",
        "db",
        6543,
        "test",
        {"a": "1"},
    )
    assert tuple(url) == ("postgresql", "scott", "tiger", "localhost", None, "test", {"a": "1"})
    assert url.set() is url
    assert url.set(query={"b": ["2", "3"]}).query == {"b": ("2", "3")}
    assert url.set(username="u", database="d").username == "u"


def test_set_validates() -> None:
    url = URL.create("pg")
    with pytest.raises(ArgumentError, match="port must be an integer"):
        url.set(port="1")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="host must be a string"):
        url.set(host=1)  # type: ignore[arg-type]


def test_update_query_string() -> None:
    url = make_url("pg://h/db?a=1&b=2")
    assert url.update_query_string("a=3&c=4").query == {"a": "3", "b": "2", "c": "4"}
    assert url.update_query_string("?a=3").query == {"a": "3", "b": "2"}
    assert url.update_query_string("a=3&a=5").query == {"a": ("3", "5"), "b": "2"}
    appended = url.update_query_string("a=3&c=4", append=True)
    assert appended.query == {"a": ("1", "3"), "b": "2", "c": "4"}
    assert url.query == {"a": "1", "b": "2"}


def test_update_query_pairs() -> None:
    url = make_url("pg://h/db?a=1&a=2")
    assert url.update_query_pairs([("a", "3")]).query == {"a": "3"}
    assert url.update_query_pairs([("a", "3")], append=True).query == {"a": ("1", "2", "3")}
    assert url.update_query_pairs([("b", ["x", "y"]), ("b", "z")]).query == {
        "a": ("1", "2"),
        "b": ("x", "y", "z"),
    }
    with pytest.raises(ArgumentError, match="query value for key 'b'"):
        url.update_query_pairs([("b", 1)])  # type: ignore[list-item]


def test_update_query_dict() -> None:
    url = make_url("pg://h/db?a=1")
    assert url.update_query_dict({"a": "2", "b": ["3", "4"]}).query == {
        "a": "2",
        "b": ("3", "4"),
    }
    assert url.update_query_dict({"a": "2"}, append=True).query == {"a": ("1", "2")}


def test_difference_update_query() -> None:
    url = make_url("pg://h/db?a=1&b=2&c=3")
    assert url.difference_update_query(["a", "c", "zz"]).query == {"b": "2"}
    assert url.difference_update_query(["zz"]) is url
    assert url.difference_update_query([]) is url


def test_normalized_query() -> None:
    url = URL.create("pg", query={"a": "1", "b": ["2", "3"]})
    assert url.normalized_query == {"a": ("1",), "b": ("2", "3")}
    assert isinstance(url.normalized_query, immutabledict)


# --------------------------------------------------------------------------- accessors


def test_translate_connect_args() -> None:
    url = make_url("postgresql://scott:tiger@localhost:5432/test")
    assert url.translate_connect_args() == {
        "host": "localhost",
        "database": "test",
        "username": "scott",
        "password": "tiger",
        "port": 5432,
    }
    assert url.translate_connect_args(username="user", database="dbname") == {
        "host": "localhost",
        "dbname": "test",
        "user": "scott",
        "password": "tiger",
        "port": 5432,
    }
    assert url.translate_connect_args(host=None) == {
        "database": "test",
        "username": "scott",
        "password": "tiger",
        "port": 5432,
    }


def test_translate_connect_args_skips_missing_and_empty() -> None:
    assert make_url("sqlite://").translate_connect_args() == {}
    assert make_url("pg://@h/").translate_connect_args(username="user") == {"host": "h"}


def test_translate_connect_args_legacy_names() -> None:
    url = make_url("postgresql://scott:tiger@localhost:5432/test")
    names = ["hostname", "db"]
    with pytest.warns(HermeticDeprecationWarning, match="names"):
        translated = url.translate_connect_args(names)
    assert translated == {
        "hostname": "localhost",
        "db": "test",
        "username": "scott",
        "password": "tiger",
        "port": 5432,
    }
    assert names == ["hostname", "db"]


@pytest.mark.parametrize(
    ("drivername", "backend", "driver"),
    [
        ("postgresql+psycopg", "postgresql", "psycopg"),
        ("postgresql+psycopg2", "postgresql", "psycopg2"),
        ("postgresql", "postgresql", None),
        ("sqlite+pysqlite", "sqlite", "pysqlite"),
    ],
)
def test_backend_and_driver_names(drivername: str, backend: str, driver: str | None) -> None:
    url = URL.create(drivername)
    assert url.get_backend_name() == backend
    assert url.get_driver_name() == driver


# --------------------------------------------------------------------------- value semantics


def test_hash_and_equality_by_value() -> None:
    a = make_url("pg://u:p@h:1/db?x=1&x=2")
    b = URL.create("pg", "u", "p", "h", 1, "db", {"x": ["1", "2"]})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != b.set(password="other")
    assert {a: 1}[b] == 1


def test_copy_deepcopy_pickle() -> None:
    url = make_url("pg://u:p@h:1/db?x=1&x=2")
    assert copy.copy(url) == url
    assert copy.deepcopy(url) == url
    restored = pickle.loads(pickle.dumps(url))
    assert restored == url
    assert isinstance(restored.query, immutabledict)


def test_module_exports() -> None:
    assert set(url_module.__all__) == {"URL", "make_url"}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text",
    [
        "foo",
        "",
        "postgresql//localhost/db",
        "postgresql:/localhost/db",
        "://localhost/db",
        "post gres://localhost/db",
        "postgresql://[::1/db",
    ],
)
def test_malformed_url(text: str) -> None:
    with pytest.raises(ArgumentError) as info:
        make_url(text)
    message = str(info.value)
    assert message.startswith(f"Could not parse a database URL from {text!r}")
    assert "expected dialect+driver://user:password@host:port/database" in message


def test_malformed_url_message_example() -> None:
    with pytest.raises(ArgumentError) as info:
        make_url("foo")
    assert str(info.value) == (
        "Could not parse a database URL from 'foo'; "
        "expected dialect+driver://user:password@host:port/database"
    )


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://localhost:abc/db",
        "postgresql://localhost:/db",
        "postgresql://localhost:54x2",
        "postgresql://scott:tiger@localhost:-1/db",
    ],
)
def test_bad_port(text: str) -> None:
    with pytest.raises(ArgumentError, match="the port must be a number") as info:
        make_url(text)
    assert "tiger" not in str(info.value)


def test_parse_errors_mask_the_password() -> None:
    with pytest.raises(ArgumentError) as info:
        make_url("postgresql://scott:ti@ger@localhost/db")
    message = str(info.value)
    assert "ti@ger" not in message
    assert "ger" not in message.split("expected")[0]
    assert "'postgresql://scott:***@localhost/db'" in message
    assert "percent-encoded" in message

    with pytest.raises(ArgumentError) as info:
        make_url("postgresql://scott:s3cr?t@localhost/db")
    assert "s3cr" not in str(info.value)


@pytest.mark.parametrize("value", [None, 5, b"sqlite://", ["sqlite://"]])
def test_make_url_rejects_other_types(value: object) -> None:
    with pytest.raises(ArgumentError, match="expects a URL string or a URL object, got"):
        make_url(value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- property


_text = st.text(st.characters(codec="utf-8"), max_size=30)  # any text but lone surrogates


@given(
    username=_text,
    password=st.none() | _text,
    database=st.none() | _text,
    port=st.none() | st.integers(min_value=0, max_value=65535),
    host=st.sampled_from(["localhost", "db.example.com", "::1", "10.0.0.1"]),
)
def test_render_round_trips_through_make_url(
    username: str, password: str | None, database: str | None, port: int | None, host: str
) -> None:
    url = URL.create("postgresql+psycopg", username, password, host, port, database)
    rendered = url.render_as_string(hide_password=False)
    assert make_url(rendered) == url
    if password:
        assert url.render_as_string(hide_password=True).count("***") >= 1
        assert make_url(str(url)).password == "***"


@given(
    query=st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.text(max_size=10) | st.lists(st.text(max_size=10), min_size=2, max_size=3),
        max_size=4,
    )
)
def test_query_round_trips_through_make_url(query: dict[str, Any]) -> None:
    url = URL.create("sqlite", database="app.db", query=query)
    assert make_url(url.render_as_string(hide_password=False)) == url


# --------------------------------------------------------------------------- immutabledict


def test_immutabledict_refuses_mutation() -> None:
    d: immutabledict[str, int] = immutabledict({"a": 1})
    with pytest.raises(TypeError, match="immutable"):
        d["b"] = 2
    with pytest.raises(TypeError):
        del d["a"]
    with pytest.raises(TypeError):
        d.update(b=2)
    with pytest.raises(TypeError):
        d.pop("a")
    with pytest.raises(TypeError):
        d.popitem()
    with pytest.raises(TypeError):
        d.setdefault("b", 2)
    with pytest.raises(TypeError):
        d.clear()
    with pytest.raises(TypeError):
        d |= {"b": 2}
    assert d == {"a": 1}


def test_immutabledict_union_merge_with_and_or() -> None:
    d: immutabledict[str, int] = immutabledict({"a": 1, "b": 2})
    u = d.union({"b": 3, "c": 4})
    assert isinstance(u, immutabledict)
    assert u == {"a": 1, "b": 3, "c": 4}
    assert d == {"a": 1, "b": 2}
    assert d.union({}) is d
    m = d.merge_with({"b": 5}, None, {}, {"c": 6})
    assert isinstance(m, immutabledict)
    assert m == {"a": 1, "b": 5, "c": 6}
    assert d.merge_with() is d
    assert d.merge_with(None, {}) is d
    assert isinstance(d | {"z": 0}, immutabledict)
    assert {"a": 0, "z": 0} | d == {"a": 1, "b": 2, "z": 0}
    assert isinstance({"z": 0} | d, immutabledict)


def test_immutabledict_hash_repr_pickle_copy() -> None:
    d: immutabledict[str, Any] = immutabledict({"a": "1", "b": ("2", "3")})
    e: immutabledict[str, Any] = immutabledict({"b": ("2", "3"), "a": "1"})
    assert hash(d) == hash(e)
    assert len({d, e}) == 1
    assert repr(d) == "immutabledict({'a': '1', 'b': ('2', '3')})"
    restored = pickle.loads(pickle.dumps(d))
    assert restored == d
    assert isinstance(restored, immutabledict)
    plain = d.copy()
    plain["c"] = "4"
    assert "c" not in d
    assert immutabledict.fromkeys(["x", "y"], 0) == {"x": 0, "y": 0}
