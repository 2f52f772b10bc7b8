"""relationship() on real SQLite and PostgreSQL: one-to-many, many-to-one, one-to-one,
many-to-many (a secondary Table; an association object with association_proxy),
self-referential trees, back_populates/backref kept consistent in memory before any
flush, foreign_keys, primaryjoin/secondaryjoin, order_by, viewonly, cascades (default,
"all, delete-orphan" over three levels, merge), passive_deletes, post_update, list / set
/ keyed-dict collections, write_only and dynamic relationships, and what ``Mapped[...]``
annotations decide. Statement counts come from ``before_cursor_execute``.
"""

from __future__ import annotations

import pytest

from conftest import SQLLog
from hermetic import ForeignKey, exc, func, inspect, select
from hermetic.engine import Engine
from hermetic.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    WriteOnlyCollection,
    mapped_column,
    relationship,
    selectinload,
)
from hermetic.orm import exc as orm_exc
from hermetic.orm.collections import InstrumentedList, InstrumentedSet
from orm_rel_models import (
    Account,
    Address,
    Base,
    Blog,
    Entry,
    Event,
    Item,
    Message,
    Node,
    Note,
    Order,
    OrderLine,
    Part,
    Person,
    Post,
    PostTag,
    Profile,
    Setting,
    Tag,
    User,
    Widget,
    db,
    friendships,
    log,
    order_items,
    rel_engine,
)

__all__ = ["db", "log", "rel_engine"]  # fixtures


def _kind(statement: str) -> str:
    """ "INSERT rel_users" for "INSERT INTO rel_users (...) ...", and so on."""
    words = statement.split()
    table = words[1] if words[0] == "UPDATE" else words[2]
    return f"{words[0]} {table}"


def _count(session: Session, entity: type) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


# ---------------------------------------- configuration


def test_directions_and_uselist_from_annotations() -> None:
    rels = inspect(User).relationships
    assert rels["orders"].direction.name == "ONETOMANY"
    assert rels["orders"].uselist is True
    assert rels["profile"].direction.name == "ONETOMANY"
    assert rels["profile"].uselist is False  # Mapped[Optional[Profile]]
    assert inspect(Order).relationships["user"].direction.name == "MANYTOONE"
    assert inspect(Order).relationships["user"].uselist is False
    assert inspect(Order).relationships["items"].direction.name == "MANYTOMANY"
    assert inspect(Node).relationships["parent"].direction.name == "MANYTOONE"
    assert inspect(Node).relationships["children"].direction.name == "ONETOMANY"
    # the annotation's Optional decides the foreign key column's nullability
    assert Order.__table__.c.user_id.nullable is True
    assert OrderLine.__table__.c.order_id.nullable is False


def test_collection_types() -> None:
    u = User(name="u")
    assert type(u.orders) is InstrumentedList or isinstance(u.orders, InstrumentedList)
    assert isinstance(u.addresses, InstrumentedSet)
    assert u.profile is None
    a = Account(name="a")
    assert isinstance(a.settings, dict) and a.settings == {}


def test_local_remote_pairs_and_secondary() -> None:
    orders = inspect(User).relationships["orders"]
    assert orders.local_remote_pairs == [(User.__table__.c.id, Order.__table__.c.user_id)]
    items = inspect(Order).relationships["items"]
    assert items.secondary is order_items
    parent = inspect(Node).relationships["parent"]
    assert parent.remote_side == {Node.__table__.c.id}
    friends = inspect(Person).relationships["friends"]
    assert friends.secondary is friendships


def test_backref_creates_the_other_side() -> None:
    prop = inspect(Address).relationships["user"]
    assert prop.direction.name == "MANYTOONE"
    assert prop.back_populates == "addresses"


# ---------------------------------------- in memory


def test_back_populates_one_to_many_in_memory() -> None:
    u = User(name="u")
    o1, o2 = Order(), Order()
    u.orders.append(o1)
    assert o1.user is u
    o2.user = u
    assert u.orders == [o1, o2]
    u.orders.remove(o1)
    assert o1.user is None
    u2 = User(name="u2")
    o2.user = u2  # moving an order removes it from the old user's collection
    assert u.orders == [] and u2.orders == [o2]
    u2.orders = [o1]  # assigning a collection unlinks the ones left out
    assert o2.user is None and o1.user is u2


def test_backref_keeps_set_consistent_in_memory() -> None:
    u = User(name="u")
    a = Address(email="a@x")
    a.user = u
    assert u.addresses == {a}
    u.addresses.discard(a)
    assert a.user is None
    u.addresses.add(a)
    assert a.user is u


def test_one_to_one_in_memory() -> None:
    u = User(name="u")
    p1, p2 = Profile(nickname="p1"), Profile(nickname="p2")
    u.profile = p1
    assert p1.user is u
    u.profile = p2
    assert p2.user is u and p1.user is None
    p1.user = u
    assert u.profile is p1


def test_many_to_many_in_memory() -> None:
    o = Order()
    i1, i2 = Item(name="i1"), Item(name="i2")
    o.items.append(i1)
    i2.orders.append(o)
    assert o.items == [i1, i2]
    assert i1.orders == [o]
    o.items.clear()
    assert i1.orders == [] and i2.orders == []


def test_self_referential_in_memory() -> None:
    root = Node(name="root")
    child = Node(name="child", parent=root)
    grandchild = Node(name="grandchild")
    child.children.append(grandchild)
    assert root.children == [child]
    assert grandchild.parent is child and child.parent is root


# ---------------------------------------- one-to-many / many-to-one


def test_one_to_many_flush_sets_foreign_keys(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        u = User(name="u", orders=[Order(description="a"), Order(description="b")])
        s.add(u)
        s.commit()
        assert log.count("INSERT INTO rel_users") == 1
        assert log.count("INSERT INTO rel_orders") == 1  # one batch for both rows
        uid = u.id
    with Session(db) as s:
        rows = s.execute(select(Order.description, Order.user_id).order_by(Order.id)).all()
        assert rows == [("a", uid), ("b", uid)]


def test_many_to_one_assignment_moves_row(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        u1, u2 = User(name="u1"), User(name="u2")
        o = Order(user=u1)
        s.add_all([u1, u2, o])
        s.commit()
        log.clear()
        o.user = u2
        s.flush()
        assert log.count("UPDATE rel_orders") == 1
        # both collections loaded afterwards agree with the database
        assert o in u2.orders and o not in u1.orders
        s.commit()
        assert s.scalar(select(Order.user_id)) == u2.id


def test_lazy_many_to_one_uses_identity_map(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        s.add(Order(user=User(name="u")))
        s.commit()
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        o = s.scalars(select(Order)).one()
        log.clear()
        assert o.user is u
        assert log.count() == 0  # the target was in the identity map


def test_one_to_one_replace_deletes_orphan(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        u = User(name="u", profile=Profile(nickname="a"))
        s.add(u)
        s.commit()
        old_id = u.profile.id
        log.clear()
        u.profile = Profile(nickname="b")
        s.commit()
        assert log.count("DELETE FROM rel_profiles") == 1
        assert log.count("INSERT INTO rel_profiles") == 1
        assert s.get(Profile, old_id) is None
        assert s.scalars(select(Profile.nickname)).all() == ["b"]


def test_default_cascade_nulls_children_on_delete(db: Engine, log: SQLLog) -> None:
    """save-update, merge (no delete): deleting the parent sets the children's foreign
    key to NULL, after loading them."""
    assert inspect(User).relationships["addresses"].cascade == {"save-update", "merge"}
    with Session(db) as s:
        u = User(name="u", addresses={Address(email="a"), Address(email="b")})
        s.add(u)
        s.commit()
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        log.clear()
        s.delete(u)
        s.commit()
        assert log.count("SELECT") >= 1  # the addresses are loaded to be updated
        assert log.count("UPDATE rel_addresses") == 1
        assert log.count("DELETE FROM rel_users") == 1
        assert s.scalars(select(Address.user_id)).all() == [None, None]


def test_save_update_cascade_adds_related_objects(db: Engine) -> None:
    with Session(db) as s:
        u = User(name="u")
        s.add(u)
        o = Order(description="later")
        u.orders.append(o)  # cascades into the Session right away
        assert o in s
        item = Item(name="i")
        o.items.append(item)
        assert item in s
        s.commit()
        assert _count(s, Item) == 1


# ---------------------------------------- cascades over three levels


def _user_with_orders(s: Session) -> User:
    u = User(
        name="u",
        orders=[
            Order(description="a", lines=[OrderLine(qty=1), OrderLine(qty=2)]),
            Order(description="b", lines=[OrderLine(qty=3)]),
        ],
    )
    s.add(u)
    s.commit()
    return u


def test_cascade_delete_three_levels(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        _user_with_orders(s)
    with Session(db) as s:
        u = s.scalars(select(User)).one()
        log.clear()
        s.delete(u)
        s.commit()
        assert log.count("DELETE FROM rel_order_lines") == 1
        assert log.count("DELETE FROM rel_orders") == 1
        assert log.count("DELETE FROM rel_users") == 1
        assert [_count(s, c) for c in (User, Order, OrderLine)] == [0, 0, 0]


def test_delete_orphan_three_levels(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        u = _user_with_orders(s)
        first = u.orders[0]
        log.clear()
        u.orders.remove(first)  # the order and its two lines are orphans
        s.commit()
        assert log.count("DELETE FROM rel_order_lines") == 1
        assert log.count("DELETE FROM rel_orders") == 1
        assert _count(s, Order) == 1
        assert s.scalars(select(OrderLine.qty)).all() == [3]


def test_pending_orphan_is_expunged(db: Engine) -> None:
    with Session(db) as s:
        u = User(name="u")
        s.add(u)
        o = Order()
        u.orders.append(o)
        u.orders.remove(o)
        s.commit()
        assert _count(s, Order) == 0


def test_cascade_saves_three_levels_added_later(db: Engine) -> None:
    with Session(db) as s:
        u = _user_with_orders(s)
        u.orders[1].lines.append(OrderLine(qty=9))
        u.orders.append(Order(description="c", lines=[OrderLine(qty=7)]))
        s.commit()
        assert sorted(s.scalars(select(OrderLine.qty)).all()) == [1, 2, 3, 7, 9]


def test_merge_cascades(db: Engine) -> None:
    with Session(db) as s:
        u = _user_with_orders(s)
        uid = u.id
        s.scalars(select(User).options(selectinload(User.orders))).all()
    detached = u
    assert [o.description for o in detached.orders] == ["a", "b"]
    detached.orders[0].description = "changed"
    detached.orders.append(Order(description="new"))
    with Session(db) as s:
        merged = s.merge(detached)
        assert merged is not detached
        assert [o.description for o in merged.orders] == ["changed", "b", "new"]
        s.commit()
        assert s.scalars(
            select(Order.description).where(Order.user_id == uid).order_by(Order.id)
        ).all() == ["changed", "b", "new"]


def test_passive_deletes_leaves_unloaded_children_to_the_database(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        s.add(Blog(name="b", entries=[Entry(title="e1"), Entry(title="e2")]))
        s.commit()
    with Session(db) as s:
        blog = s.scalars(select(Blog)).one()
        log.clear()
        s.delete(blog)
        s.commit()
        # no SELECT of the entries: ON DELETE CASCADE removes them
        assert log.count("SELECT") == 0
        assert log.count("DELETE") == 1
        assert _count(s, Entry) == 0


def test_passive_deletes_still_deletes_loaded_children(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        s.add(Blog(name="b", entries=[Entry(title="e1")]))
        s.commit()
    with Session(db) as s:
        blog = s.scalars(select(Blog).options(selectinload(Blog.entries))).one()
        log.clear()
        s.delete(blog)
        s.commit()
        assert log.count("DELETE FROM rel_entries") == 1
        assert log.count("DELETE FROM rel_blogs") == 1


# ---------------------------------------- many-to-many


def _links(s: Session) -> list[tuple[int, int]]:
    rows = s.execute(select(order_items).order_by(order_items.c.order_id, order_items.c.item_id))
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_many_to_many_add_remove_clear(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        i1, i2, i3 = Item(name="i1"), Item(name="i2"), Item(name="i3")
        o = Order(items=[i1, i2])
        s.add(o)
        s.commit()
        assert log.count("INSERT INTO rel_order_items") == 1  # one executemany
        assert _links(s) == [(o.id, i1.id), (o.id, i2.id)]

        log.clear()
        o.items.append(i3)
        o.items.remove(i1)
        s.commit()
        assert log.count("INSERT INTO rel_order_items") == 1
        assert log.count("DELETE FROM rel_order_items") == 1
        assert _links(s) == [(o.id, i2.id), (o.id, i3.id)]
        assert i1.orders == []

        log.clear()
        o.items.clear()
        s.commit()
        assert log.count("DELETE FROM rel_order_items") == 1
        assert _links(s) == []
        assert _count(s, Item) == 3  # the items themselves stay


def test_many_to_many_from_the_other_side(db: Engine) -> None:
    with Session(db) as s:
        o1, o2 = Order(), Order()
        item = Item(name="i", orders=[o1, o2])
        s.add(item)
        s.commit()
        assert o1.items == [item] and o2.items == [item]
        assert len(_links(s)) == 2
        item.orders.remove(o2)
        s.commit()
        assert _links(s) == [(o1.id, item.id)]


def test_many_to_many_delete_parent_removes_links(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        o = Order(items=[Item(name="a"), Item(name="b")])
        s.add(o)
        s.commit()
    with Session(db) as s:
        o = s.scalars(select(Order)).one()
        log.clear()
        s.delete(o)
        s.commit()
        assert log.count("DELETE FROM rel_order_items") == 1
        assert _links(s) == []
        assert _count(s, Item) == 2


def test_many_to_many_load_both_directions(db: Engine) -> None:
    with Session(db) as s:
        a, b = Item(name="a"), Item(name="b")
        s.add_all([Order(description="o1", items=[a, b]), Order(description="o2", items=[b])])
        s.commit()
    with Session(db) as s:
        orders = s.scalars(select(Order).order_by(Order.id)).all()
        assert [[i.name for i in o.items] for o in orders] == [["a", "b"], ["b"]]
        b = s.scalars(select(Item).where(Item.name == "b")).one()
        assert sorted(o.description for o in b.orders) == ["o1", "o2"]


def test_self_referential_many_to_many(db: Engine) -> None:
    with Session(db) as s:
        ann, bob, cy = Person(name="ann"), Person(name="bob"), Person(name="cy")
        ann.friends = [bob, cy]
        bob.friends.append(cy)
        s.add(ann)
        s.commit()
        rows = s.execute(select(friendships.c.a_id, friendships.c.b_id)).all()
        assert sorted(rows) == sorted([(ann.id, bob.id), (ann.id, cy.id), (bob.id, cy.id)])
    with Session(db) as s:
        ann = s.scalars(select(Person).where(Person.name == "ann")).one()
        assert [p.name for p in ann.friends] == ["bob", "cy"]
        assert [p.name for p in ann.friends[0].friends] == ["cy"]
        assert ann.friends[1].friends == []


# ---------------------------------------- self-referential tree


def _tree(s: Session) -> Node:
    root = Node(
        name="root",
        children=[
            Node(name="a", children=[Node(name="a1"), Node(name="a2")]),
            Node(name="b", children=[Node(name="b1")]),
        ],
    )
    s.add(root)
    s.commit()
    return root


def test_tree_three_levels_round_trip(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        _tree(s)
        # one multi-row INSERT per level: every row after its parent, whose key it needs
        assert log.count("INSERT INTO rel_nodes") == 3
    with Session(db) as s:
        root = s.scalars(select(Node).where(Node.parent_id.is_(None))).one()
        assert [c.name for c in root.children] == ["a", "b"]
        assert [[g.name for g in c.children] for c in root.children] == [["a1", "a2"], ["b1"]]
        a1 = root.children[0].children[0]
        assert a1.parent.parent is root
        assert root.parent is None


def test_tree_move_subtree(db: Engine) -> None:
    with Session(db) as s:
        root = _tree(s)
        a, b = root.children
        a2 = a.children[1]
        a2.parent = b
        assert a.children == [a.children[0]] and a2 in b.children
        s.commit()
    with Session(db) as s:
        b = s.scalars(select(Node).where(Node.name == "b")).one()
        assert [c.name for c in b.children] == ["a2", "b1"]  # ordered by id


def test_tree_cascade_delete_three_levels(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        _tree(s)
    with Session(db) as s:
        root = s.scalars(select(Node).where(Node.name == "root")).one()
        s.delete(root)
        s.commit()
        assert _count(s, Node) == 0


def test_tree_remove_child_deletes_its_subtree(db: Engine) -> None:
    with Session(db) as s:
        root = _tree(s)
        root.children.remove(root.children[0])
        s.commit()
        assert sorted(s.scalars(select(Node.name)).all()) == ["b", "b1", "root"]


# ---------------------------------------- join options


def test_foreign_keys_pick_the_join(db: Engine) -> None:
    with Session(db) as s:
        ann, bob = User(name="ann"), User(name="bob")
        s.add(Message(sender=ann, recipient=bob, body="hi"))
        s.commit()
    with Session(db) as s:
        m = s.scalars(select(Message)).one()
        assert (m.sender.name, m.recipient.name) == ("ann", "bob")
        got = s.scalars(select(Message).join(Message.recipient).where(User.name == "bob")).all()
        assert got == [m]


def test_primaryjoin_with_extra_criterion_viewonly(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        u = User(
            name="u",
            orders=[Order(status="open"), Order(status="closed"), Order(status="open")],
        )
        s.add(u)
        s.commit()
        uid = u.id
    with Session(db) as s:
        u = s.get(User, uid)
        assert u is not None
        log.clear()
        assert [o.status for o in u.open_orders] == ["open", "open"]
        assert log.count("SELECT") == 1
        assert "status" in log.statements[0]
        # viewonly: changing it writes nothing
        u.open_orders.append(Order(status="open"))
        log.clear()
        s.commit()
        assert log.count("INSERT") == 0 and log.count("UPDATE") == 0
        assert _count(s, Order) == 3
        assert inspect(User).relationships["open_orders"].viewonly is True


def test_order_by_is_applied(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        u = User(name="u")
        s.add(u)
        s.flush()
        # inserted out of id order
        s.add_all([Order(id=30, user=u), Order(id=10, user=u), Order(id=20, user=u)])
        s.commit()
        uid = u.id
    with Session(db) as s:
        u = s.get(User, uid)
        assert u is not None
        log.clear()
        assert [o.id for o in u.orders] == [10, 20, 30]
        assert "ORDER BY" in log.statements[-1]


# ---------------------------------------- post_update


def test_post_update_breaks_a_cycle(db: Engine, log: SQLLog) -> None:
    with Session(db) as s:
        p1 = Part(name="p1")
        w = Widget(name="w", parts=[p1])
        w.favorite = p1
        s.add(w)
        s.commit()
        assert [_kind(st) for st in log.statements] == [
            "INSERT rel_widgets",
            "INSERT rel_parts",
            "UPDATE rel_widgets",
        ], log.statements
        assert s.scalar(select(Widget.favorite_part_id)) == p1.id
    with Session(db) as s:
        w = s.scalars(select(Widget)).one()
        assert w.favorite is w.parts[0]
        log.clear()
        s.delete(w)
        s.commit()
        kinds = [_kind(st) for st in log.statements if not st.startswith("SELECT")]
        # the widget's reference to its part is cleared before the part is deleted
        assert kinds == ["UPDATE rel_widgets", "DELETE rel_parts", "DELETE rel_widgets"]
        assert _count(s, Widget) == 0


# ---------------------------------------- keyed dict


def test_attribute_keyed_dict(db: Engine) -> None:
    with Session(db) as s:
        acct = Account(name="a")
        acct.settings["theme"] = Setting(key="theme", value="dark")
        acct.settings["lang"] = Setting(key="lang", value="en")
        assert acct.settings["theme"].account is acct
        s.add(acct)
        s.commit()
        aid = acct.id
    with Session(db) as s:
        acct = s.get(Account, aid)
        assert acct is not None
        assert sorted(acct.settings) == ["lang", "theme"]
        assert acct.settings["lang"].value == "en"
        acct.settings["lang"] = Setting(key="lang", value="fr")  # replaces: orphan deleted
        del acct.settings["theme"]
        s.commit()
        assert s.execute(select(Setting.key, Setting.value)).all() == [("lang", "fr")]


# ---------------------------------------- association proxy


def test_association_proxy_list(db: Engine) -> None:
    with Session(db) as s:
        red, blue, green = Tag(name="red"), Tag(name="blue"), Tag(name="green")
        post = Post(title="p")
        post.tags.append(red)
        post.tags.extend([blue])
        assert [pt.tag for pt in post.post_tags] == [red, blue]
        assert post.tags == [red, blue]
        assert len(post.tags) == 2 and red in post.tags and green not in post.tags
        assert post.tag_names == ["red", "blue"]
        s.add(post)
        s.commit()
        pid = post.id
    with Session(db) as s:
        post = s.get(Post, pid)
        assert post is not None
        assert sorted(t.name for t in post.tags) == ["blue", "red"]
        red = s.scalars(select(Tag).where(Tag.name == "red")).one()
        post.tags.remove(red)  # removes (and, delete-orphan, deletes) the PostTag
        s.commit()
        assert s.scalars(select(PostTag.tag_id)).all() == [
            s.scalar(select(Tag.id).where(Tag.name == "blue"))
        ]
        post.tags = [red]  # assignment replaces the whole collection
        s.commit()
        assert [t.name for t in post.tags] == ["red"]
        assert _count(s, PostTag) == 1


def test_association_proxy_scalar_and_queries(db: Engine) -> None:
    with Session(db) as s:
        red, blue = Tag(name="red"), Tag(name="blue")
        p1, p2 = Post(title="one", tags=[red]), Post(title="two", tags=[blue, red])
        s.add_all([p1, p2])
        s.commit()
        pt = p1.post_tags[0]
        assert pt.tag_name == "red"
        pt.tag_name = "crimson"  # writes through to the Tag
        assert red.name == "crimson"
        s.commit()
        got = s.scalars(select(Post.title).where(Post.tags.any(Tag.name == "blue"))).all()
        assert got == ["two"]
        got = s.scalars(
            select(Post.title).where(Post.tag_names.contains("crimson")).order_by(Post.title)
        ).all()
        assert got == ["one", "two"]
        got = s.scalars(select(PostTag.post_id).where(PostTag.tag_name == "blue")).all()
        assert got == [p2.id]


# ---------------------------------------- write_only / dynamic


def test_write_only_relationship(db: Engine, log: SQLLog) -> None:
    assert inspect(User).relationships["events"].lazy == "write_only"
    with Session(db) as s:
        u = User(name="u", events=[Event(kind="signup")])
        s.add(u)
        s.commit()
        assert isinstance(u.events, WriteOnlyCollection)
        u.events.add(Event(kind="login"))
        u.events.add_all([Event(kind="a"), Event(kind="b")])
        s.commit()
        uid = u.id  # (expired by the commit)
        log.clear()
        kinds = s.scalars(u.events.select().where(Event.kind != "a")).all()
        assert [e.kind for e in kinds] == ["signup", "login", "b"]
        assert log.count("SELECT") == 1
        with pytest.raises(TypeError):
            list(u.events)  # type: ignore[call-overload]
        login = kinds[1]
        u.events.remove(login)  # unlinks (sets the foreign key to NULL)
        s.commit()
        assert login.user_id is None
        assert s.scalar(select(func.count()).select_from(Event).where(Event.user_id == uid)) == 3


def test_dynamic_relationship(db: Engine, log: SQLLog) -> None:
    assert inspect(User).relationships["notes"].lazy == "dynamic"
    with Session(db) as s:
        u = User(name="u")
        s.add(u)
        u.notes.append(Note(text="one"))
        u.notes.extend([Note(text="two"), Note(text="three")])
        s.commit()
        s.refresh(u)
        log.clear()
        assert [n.text for n in u.notes] == ["one", "two", "three"]
        assert u.notes.count() == 3
        assert [n.text for n in u.notes.filter(Note.text.startswith("t")).all()] == [
            "two",
            "three",
        ]
        assert u.notes[0].text == "one"
        assert log.count("SELECT") == 4


# ---------------------------------------- errors that teach


def test_detached_lazy_load_names_attribute_and_fix(db: Engine) -> None:
    with Session(db) as s:
        s.add(User(name="u", orders=[Order()]))
        s.commit()
    with Session(db) as s:
        u = s.scalars(select(User)).one()
    with pytest.raises(orm_exc.DetachedInstanceError) as info:
        u.orders  # noqa: B018
    message = str(info.value)
    assert "lazy load operation of attribute 'orders' cannot proceed" in message
    assert "selectinload(User.orders)" in message


def test_invalid_cascade_names_the_valid_ones() -> None:
    with pytest.raises(exc.ArgumentError, match="bogus"):
        relationship("X", cascade="all, bogus")


def test_metadata_has_every_table() -> None:
    names = set(Base.metadata.tables)
    assert {"rel_users", "rel_order_items", "rel_friendships", "rel_post_tags"} <= names


def test_pep604_string_annotations_decide_uselist() -> None:
    class B(DeclarativeBase):
        pass

    class Parent(B):
        __tablename__ = "p604"
        id: Mapped[int] = mapped_column(primary_key=True)
        kids: Mapped[list[Kid]] = relationship(
            back_populates="parent", foreign_keys="Kid.parent_id"
        )
        favorite: Mapped["Kid | None"] = relationship(  # noqa: UP037
            primaryjoin="Parent.id == Kid.fav_of", viewonly=True
        )

    class Kid(B):
        __tablename__ = "k604"
        id: Mapped[int] = mapped_column(primary_key=True)
        parent_id: Mapped[int] = mapped_column(ForeignKey("p604.id"))
        fav_of: Mapped[int | None] = mapped_column(ForeignKey("p604.id"))
        parent: Mapped["Parent"] = relationship(  # noqa: UP037
            back_populates="kids", foreign_keys=[parent_id]
        )

    kids = inspect(Parent).relationships["kids"]
    assert kids.uselist is True and kids.mapper.class_ is Kid
    assert inspect(Parent).relationships["favorite"].uselist is False
    assert inspect(Kid).relationships["parent"].uselist is False
    assert Kid.__table__.c.fav_of.nullable is True
    assert Kid.__table__.c.parent_id.nullable is False
    assert Parent().kids == [] and Parent().favorite is None


def test_ambiguous_foreign_keys_teach() -> None:
    from hermetic.orm import configure_mappers

    class B(DeclarativeBase):
        pass

    class Left(B):
        __tablename__ = "amb_left"
        id: Mapped[int] = mapped_column(primary_key=True)
        rights: Mapped[list[Right]] = relationship()

    class Right(B):
        __tablename__ = "amb_right"
        id: Mapped[int] = mapped_column(primary_key=True)
        a_id: Mapped[int] = mapped_column(ForeignKey("amb_left.id"))
        b_id: Mapped[int] = mapped_column(ForeignKey("amb_left.id"))

    with pytest.raises(exc.AmbiguousForeignKeysError, match="foreign_keys"):
        configure_mappers()
    B.registry.dispose()


def test_association_proxy_set_and_dict(db: Engine) -> None:
    with Session(db) as s:
        u = User(name="u")
        u.address_emails.add("a@x")
        u.address_emails.update(["b@x", "a@x"])
        assert u.address_emails == {"a@x", "b@x"} and len(u.addresses) == 2
        assert all(a.user is u for a in u.addresses)
        acct = Account(name="acct")
        acct.values["theme"] = "dark"
        acct.values.update(lang="en")
        acct.values["theme"] = "light"  # an existing key: the Setting is updated
        assert acct.values == {"theme": "light", "lang": "en"}
        assert sorted(acct.settings) == ["lang", "theme"]
        s.add_all([u, acct])
        s.commit()
        uid, aid = u.id, acct.id
    with Session(db) as s:
        u = s.get(User, uid)
        acct = s.get(Account, aid)
        assert u is not None and acct is not None
        assert u.address_emails == {"a@x", "b@x"}
        u.address_emails.discard("a@x")
        del acct.values["lang"]
        assert acct.values.get("lang") is None and "theme" in acct.values
        s.commit()
        assert s.scalars(select(Address.email).where(Address.user_id == uid)).all() == ["b@x"]
        assert s.execute(select(Setting.key, Setting.value)).all() == [("theme", "light")]


def test_association_proxy_list_operations() -> None:
    post = Post(title="p")
    tags = [Tag(name=n) for n in ("a", "b", "c", "d")]
    post.tags = tags[:3]
    assert post.tag_names == ["a", "b", "c"]
    assert post.tags[1] is tags[1] and post.tags[-1] is tags[2]
    assert post.tags[0:2] == tags[:2]
    post.tags.insert(1, tags[3])
    assert post.tag_names == ["a", "d", "b", "c"]
    assert post.tags.index(tags[1]) == 2 and post.tags.count(tags[1]) == 1
    assert post.tags.pop() is tags[2]
    del post.tags[0]
    assert post.tag_names == ["d", "b"]
    post.tag_names[0] = "dd"  # sets the proxied attribute through the association
    assert tags[3].name == "dd"
    post.tags.clear()
    assert post.tags == [] and post.post_tags == [] and not post.tags
    assert PostTag(tag=None).tag_name is None  # type: ignore[arg-type]
