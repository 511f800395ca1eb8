"""The read model of organization's union tree (组织树), one for every service that needs it.

Deeds, activities and notifications each keep the same four tables in their own database
(``directory_units``, ``directory_unions``, ``directory_members``, ``directory_roles``), kept
from organization's events by the handlers of :func:`tree_handlers` and rebuilt page by page
from ``organization.directory_snapshot`` by ``resync_directory``, so that they answer "who
are this unit's officers" while organization is down.

**Out of order.** Handlers of different event types consume different queues, and a failed
event comes back after a delay: a ``member_updated`` may be handled after the ``member_left``
that followed it, a ``role_assigned`` after its ``role_ended``. Every row therefore keeps,
per group of columns, the ``occurred_at`` of the change that wrote that group (its stamp);
a change older than the stamp leaves the group as it is. Units have four groups (one per
kind of unit event); unions, members and role assignments carry their whole state in each
event and have one. A role assignment's key is (member, union, role, first day), as
organization's events give it.

**Questions**, one meaning each, asked with a day (the business day in China, or the day of
the event being handled):

- ``union_chain(unit)``: the unions open that day serving the unit, nearest first: the
  unit's own union if it has one, then the union of each unit above. A unit under no union
  has an empty chain.
- ``officers(unit, levels_up=k)``: the current members holding an officer role (chair,
  vice-chair) that day in the ``k``-th union of that chain. When the chain has no ``k``-th
  union (a short chain: the top of the tree is reached), the answer is nobody, ``[]``: the
  caller decides what happens at the top (deeds keeps a supervision order there).
"""

from datetime import date, datetime, timedelta

from marshmallow import Schema, fields
from nameko.timer import timer
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    UniqueConstraint,
    case,
    delete,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gonghui.actor import SYSTEM_TICK
from gonghui.audit import record_resync
from gonghui.clock import today
from gonghui.entrypoints import event_handler, rpc
from gonghui.errors import NotFound, ServiceTimeout

# The roles whose holders are a union's officers: who is told of escalations.
OFFICER_ROLES = ("chair", "vice_chair")

# A resync stamps its rows a little before organization read them: a change committed just
# before the read but stamped after it must not be mistaken for a newer one and lost.
RESYNC_MARGIN = timedelta(seconds=60)
PAGE_SIZE = 1000
# A union tree is a handful of levels deep; the recursive walks stop here whatever the data.
MAX_DEPTH = 50

UNKNOWN = "unknown, or not yet synchronised from organization"


class DirectoryModel(DeclarativeBase):
    """The tables of the read model; every consuming service's migrations create them."""


DIRECTORY_METADATA = DirectoryModel.metadata


def _stamp():
    return mapped_column(DateTime(timezone=True))


class DirectoryUnit(DirectoryModel):
    __tablename__ = "directory_units"

    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(30))
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    established_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    info_at = _stamp()
    name_at = _stamp()
    parent_at = _stamp()
    closed_at = _stamp()


class DirectoryUnion(DirectoryModel):
    __tablename__ = "directory_unions"

    union_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(Integer, index=True)
    level: Mapped[str] = mapped_column(String(30))
    name: Mapped[str | None] = mapped_column(String(200))
    established_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    stamp = _stamp()


class DirectoryMember(DirectoryModel):
    __tablename__ = "directory_members"

    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    employee_no: Mapped[str | None] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(10))
    unit_id: Mapped[int] = mapped_column(Integer, index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(20))
    wecom_id: Mapped[str | None] = mapped_column(String(100))
    joined_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    stamp = _stamp()


class DirectoryRole(DirectoryModel):
    """One assignment of a role in a union (a chair's term, say), from its first day."""

    __tablename__ = "directory_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    union_id: Mapped[int] = mapped_column(Integer, index=True)
    unit_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(30))
    term_id: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    stamp = _stamp()

    __table_args__ = (UniqueConstraint("member_id", "union_id", "role", "starts_on"),)


class DirectorySync(DirectoryModel):
    """Whether the read model must be rebuilt from organization (set by the migration that
    created it, cleared by a resync), and when it last was."""

    __tablename__ = "directory_sync"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    resync_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    resynced_at = _stamp()


TABLES = (DirectoryUnit, DirectoryUnion, DirectoryMember, DirectoryRole, DirectorySync)


class DirectoryStatus(Schema):
    """What a read model of the tree holds (and, from organization, what a complete one
    would): every unit, open units, open unions, every member, current members, roles held
    today, and the time of the latest change applied."""

    units = fields.Integer()
    open_units = fields.Integer()
    unions = fields.Integer()
    members = fields.Integer()
    current_members = fields.Integer()
    roles = fields.Integer()
    last_change_at = fields.AwareDateTime(allow_none=True)


# ------------------------------------------------------------------ applying changes


def _date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def guarded_upsert(session, model, keys, groups, at):
    """Insert the row, or update each group of its columns unless ``at`` is older than that
    group's stamp. ``keys``: the conflict columns and their values; ``groups``: ``{stamp
    column: {column: value}}``."""
    table = model.__table__
    values = dict(keys)
    for stamp, columns in groups.items():
        values.update(columns)
        values[stamp] = at
    statement = pg_insert(table).values(**values)
    excluded = statement.excluded
    assignments = {}
    for stamp, columns in groups.items():
        newer = or_(table.c[stamp].is_(None), table.c[stamp] <= excluded[stamp])
        for column in columns:
            assignments[column] = case((newer, excluded[column]), else_=table.c[column])
        # greatest() ignores NULL in PostgreSQL: a stamp only ever moves forward.
        assignments[stamp] = func.greatest(table.c[stamp], excluded[stamp])
    session.execute(statement.on_conflict_do_update(index_elements=list(keys),
                                                    set_=assignments))


def _unit_groups(data, parent_key="parent_id"):
    return {"info_at": {"code": data["code"], "kind": data["kind"],
                        "established_on": _date(data.get("established_on"))},
            "name_at": {"name": data["unit_name"]},
            "parent_at": {"parent_id": data.get(parent_key)}}


def _apply_unit_created(session, data, at):
    guarded_upsert(session, DirectoryUnit, {"unit_id": data["unit_id"]}, _unit_groups(data), at)


def _apply_unit_renamed(session, data, at):
    guarded_upsert(session, DirectoryUnit, {"unit_id": data["unit_id"]},
                   {"name_at": {"name": data["unit_name"]}}, at)


def _apply_unit_moved(session, data, at):
    guarded_upsert(session, DirectoryUnit, {"unit_id": data["unit_id"]}, {
        "name_at": {"name": data["unit_name"]},
        "parent_at": {"parent_id": data["new_parent_id"]}}, at)


def _apply_unit_closed(session, data, at):
    guarded_upsert(session, DirectoryUnit, {"unit_id": data["unit_id"]},
                   {"closed_at": {"closed_on": _date(data["closed_on"])}}, at)


def _apply_unit_row(session, data, at):
    """A unit of the snapshot: every group at once."""
    groups = _unit_groups(data)
    groups["closed_at"] = {"closed_on": _date(data.get("closed_on"))}
    guarded_upsert(session, DirectoryUnit, {"unit_id": data["unit_id"]}, groups, at)


def _apply_union(session, data, at):
    """union_established and union_closed carry the union's whole state."""
    guarded_upsert(session, DirectoryUnion, {"union_id": data["union_id"]}, {"stamp": {
        "unit_id": data["unit_id"], "level": data["level"], "name": data["union_name"],
        "established_on": _date(data.get("established_on")),
        "closed_on": _date(data.get("closed_on"))}}, at)


def _apply_member(session, data, at):
    """member_joined, member_updated and member_left carry the member's whole state."""
    guarded_upsert(session, DirectoryMember, {"member_id": data["member_id"]}, {"stamp": {
        "employee_no": data["employee_no"], "name": data["name"], "gender": data["gender"],
        "unit_id": data["unit_id"], "email": data.get("email"), "mobile": data.get("mobile"),
        "wecom_id": data.get("wecom_id"), "joined_on": _date(data["joined_on"]),
        "left_on": _date(data.get("left_on"))}}, at)


def _apply_role(session, data, at):
    """role_assigned and role_ended carry the assignment's whole state."""
    guarded_upsert(session, DirectoryRole, {
        "member_id": data["member_id"], "union_id": data["union_id"], "role": data["role"],
        "starts_on": _date(data["starts_on"])}, {"stamp": {
            "unit_id": data["unit_id"], "term_id": data.get("term_id"),
            "ends_on": _date(data.get("ends_on"))}}, at)


APPLY = {
    "unit_created": _apply_unit_created,
    "unit_renamed": _apply_unit_renamed,
    "unit_moved": _apply_unit_moved,
    "unit_closed": _apply_unit_closed,
    "union_established": _apply_union,
    "union_closed": _apply_union,
    "member_joined": _apply_member,
    "member_updated": _apply_member,
    "member_left": _apply_member,
    "role_assigned": _apply_role,
    "role_ended": _apply_role,
}
EVENTS = tuple(APPLY)

# The snapshot's parts, in the order a resync applies them, and how each row is applied.
SNAPSHOT_PARTS = {"units": _apply_unit_row, "unions": _apply_union,
                  "members": _apply_member, "roles": _apply_role}


def apply(session, event_name, data, at):
    """Fold one of organization's tree events (its validated data) into the read model."""
    APPLY[event_name](session, data, at)


def resync(session, fetch_page, page_size=PAGE_SIZE):
    """Rebuild the read model from ``fetch_page(part, after, limit)`` (organization's
    ``directory_snapshot``), one bounded page at a time, keeping every change newer than the
    page it would overwrite; then forget what organization no longer has (rows no change
    since the first page touched). Returns the rows read per part."""
    first_stamp, read = None, {}
    for part, apply_row in SNAPSHOT_PARTS.items():
        after, read[part] = 0, 0
        while after is not None:
            page = fetch_page(part=part, after=after, limit=page_size)
            stamp = _aware(page["taken_at"]) - RESYNC_MARGIN
            first_stamp = first_stamp or stamp
            for row in page["rows"]:
                apply_row(session, row, stamp)
            read[part] += len(page["rows"])
            after = page["next_after"]
    if first_stamp is not None:
        _forget_older_than(session, first_stamp)
    _record_sync(session, resync_needed=False)
    return read


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value


def _forget_older_than(session, stamp):
    unit_stamp = func.greatest(DirectoryUnit.info_at, DirectoryUnit.name_at,
                               DirectoryUnit.parent_at, DirectoryUnit.closed_at)
    session.execute(delete(DirectoryUnit).where(or_(unit_stamp.is_(None), unit_stamp < stamp)))
    for model in (DirectoryUnion, DirectoryMember, DirectoryRole):
        session.execute(delete(model).where(or_(model.stamp.is_(None), model.stamp < stamp)))


def _record_sync(session, resync_needed):
    values = {"source": "organization", "resync_needed": resync_needed}
    if not resync_needed:
        values["resynced_at"] = func.now()
    statement = pg_insert(DirectorySync).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=["source"], set_={k: statement.excluded[k] for k in values
                                         if k != "source"}))


def resync_needed(session):
    return bool(session.scalar(select(DirectorySync.resync_needed)
                               .where(DirectorySync.source == "organization")))


# ------------------------------------------------------------------ questions


def _open_on(ends_on, day):
    return or_(ends_on.is_(None), ends_on > day)


def _started_by(starts_on, day):
    return or_(starts_on.is_(None), starts_on <= day)


def status(session, day=None):
    day = day or today()

    def count(model, *where):
        return session.scalar(select(func.count()).select_from(model).where(*where))

    stamps = [session.scalar(select(func.max(column))) for column in (
        DirectoryUnit.info_at, DirectoryUnit.name_at, DirectoryUnit.parent_at,
        DirectoryUnit.closed_at, DirectoryUnion.stamp, DirectoryMember.stamp,
        DirectoryRole.stamp)]
    stamps = [s for s in stamps if s is not None]
    return {
        "units": count(DirectoryUnit),
        "open_units": count(DirectoryUnit, _open_on(DirectoryUnit.closed_on, day)),
        "unions": count(DirectoryUnion, _open_on(DirectoryUnion.closed_on, day)),
        "members": count(DirectoryMember),
        "current_members": count(DirectoryMember, _open_on(DirectoryMember.left_on, day)),
        "roles": count(DirectoryRole, _started_by(DirectoryRole.starts_on, day),
                       _open_on(DirectoryRole.ends_on, day)),
        "last_change_at": max(stamps) if stamps else None,
    }


def unit(session, unit_id, field="unit_id"):
    """The unit, else ``NotFound`` under the argument ``field``; None for None (an optional
    argument left out)."""
    if unit_id is None:
        return None
    found = session.get(DirectoryUnit, unit_id)
    if found is None:
        raise NotFound(f"unit {unit_id} is not in the directory", {field: [f"unit: {UNKNOWN}"]})
    return found


def member(session, member_id, field="member_id"):
    """The member, else ``NotFound`` under the argument ``field``; None for None."""
    if member_id is None:
        return None
    found = session.get(DirectoryMember, member_id)
    if found is None:
        raise NotFound(f"member {member_id} is not in the directory",
                       {field: [f"member: {UNKNOWN}"]})
    return found


def unit_name(session, unit_id):
    found = session.get(DirectoryUnit, unit_id)
    return found.name if found is not None else None


def subtree_cte(unit_id):
    """The unit and every unit below it (a recursive CTE), at most ``MAX_DEPTH`` levels
    down, so that a cycle (a move applied before the one that undoes it) cannot loop."""
    tree = select(DirectoryUnit.unit_id, literal(0).label("depth")).where(
        DirectoryUnit.unit_id == unit_id).cte("subtree", recursive=True)
    return tree.union_all(select(DirectoryUnit.unit_id, tree.c.depth + 1).where(
        DirectoryUnit.parent_id == tree.c.unit_id, tree.c.depth < MAX_DEPTH))


def subtree_ids(session, unit_id):
    return set(session.scalars(select(subtree_cte(unit_id).c.unit_id)))


def ancestor_ids(session, unit_id):
    """The unit and the units above it, nearest first (the unit alone if it is unknown)."""
    chain = select(DirectoryUnit.unit_id, DirectoryUnit.parent_id, literal(0).label("up")).where(
        DirectoryUnit.unit_id == unit_id).cte("chain", recursive=True)
    chain = chain.union_all(select(DirectoryUnit.unit_id, DirectoryUnit.parent_id, chain.c.up + 1)
                            .where(DirectoryUnit.unit_id == chain.c.parent_id,
                                   chain.c.up < MAX_DEPTH))
    ids = list(session.scalars(select(chain.c.unit_id).order_by(chain.c.up)))
    return ids or [unit_id]


def union_chain(session, unit_id, day=None):
    """The unions open on ``day`` serving the unit, nearest first (see the module's doc)."""
    day = day or today()
    ids = ancestor_ids(session, unit_id)
    unions = {u.unit_id: u for u in session.scalars(select(DirectoryUnion).where(
        DirectoryUnion.unit_id.in_(ids), _started_by(DirectoryUnion.established_on, day),
        _open_on(DirectoryUnion.closed_on, day)))}
    return [unions[i] for i in ids if i in unions]


def role_holders(session, union_id, roles, day):
    """Current members holding one of ``roles`` in the union on ``day``, by role, then id
    (each once)."""
    rows = session.execute(
        select(DirectoryRole.member_id)
        .join(DirectoryMember, DirectoryMember.member_id == DirectoryRole.member_id)
        .where(DirectoryRole.union_id == union_id, DirectoryRole.role.in_(roles),
               _started_by(DirectoryRole.starts_on, day), _open_on(DirectoryRole.ends_on, day),
               _open_on(DirectoryMember.left_on, day))
        .order_by(DirectoryRole.role, DirectoryRole.member_id))
    return list(dict.fromkeys(member_id for (member_id,) in rows))


def officers(session, unit_id, day=None, levels_up=0, roles=OFFICER_ROLES):
    """Holders of ``roles`` in the ``levels_up``-th union of the unit's chain, or nobody when
    the chain is shorter (see the module's doc)."""
    day = day or today()
    chain = union_chain(session, unit_id, day)
    if len(chain) <= levels_up:
        return []
    return role_holders(session, chain[levels_up].union_id, roles, day)


def open_unit_ids(session, ids, day):
    """Of ``ids`` (every unit when None), those established and not closed on ``day``."""
    query = select(DirectoryUnit.unit_id).where(
        _started_by(DirectoryUnit.established_on, day), _open_on(DirectoryUnit.closed_on, day))
    if ids is not None:
        query = query.where(DirectoryUnit.unit_id.in_(ids))
    return set(session.scalars(query))


def roles_on(session, member_ids, day):
    """``{member_id: {(unit_id, role)}}`` held on ``day``."""
    rows = session.execute(select(DirectoryRole.member_id, DirectoryRole.unit_id,
                                  DirectoryRole.role).where(
        DirectoryRole.member_id.in_(member_ids), _started_by(DirectoryRole.starts_on, day),
        _open_on(DirectoryRole.ends_on, day))).all()
    held = {}
    for member_id, unit_id, role in rows:
        held.setdefault(member_id, set()).add((unit_id, role))
    return held


def current_members(session, unit_ids, day):
    """Members of the units (every unit when None) in the union on ``day``."""
    query = select(DirectoryMember).where(_started_by(DirectoryMember.joined_on, day),
                                          _open_on(DirectoryMember.left_on, day))
    if unit_ids is not None:
        query = query.where(DirectoryMember.unit_id.in_(unit_ids))
    return session.scalars(query.order_by(DirectoryMember.unit_id,
                                          DirectoryMember.employee_no)).all()


def officer_units(session, employee_no, day, roles=OFFICER_ROLES):
    """Units where the member with this employee number holds one of ``roles`` on ``day``
    (none for a member not in the union that day)."""
    found = session.scalar(select(DirectoryMember).where(
        DirectoryMember.employee_no == employee_no))
    if found is None or not (found.joined_on is None or found.joined_on <= day) or not (
            found.left_on is None or found.left_on > day):
        return set()
    return {unit_id for unit_id, role in roles_on(session, [found.member_id], day).get(
        found.member_id, ()) if role in roles}


class Lookup:
    """Names and union chains from the read model, cached for one worker.

    A single RPC looks up only the rows it names; bulk work, such as a tick emitting
    thousands of events, loads each table once after ``BULK_AFTER`` point lookups instead
    of one query per event."""

    BULK_AFTER = 32

    def __init__(self, session):
        self.session = session
        self._rows = {"unit": {}, "member": {}}
        self._complete = {"unit": False, "member": False}
        self._misses = {"unit": 0, "member": 0}
        self._union_of_unit = None
        self._chains = {}

    _QUERIES = {
        "unit": (DirectoryUnit.unit_id, DirectoryUnit.name, DirectoryUnit.parent_id),
        "member": (DirectoryMember.member_id, DirectoryMember.name),
    }

    def _row(self, kind, key):
        rows = self._rows[kind]
        if key in rows or self._complete[kind]:
            return rows.get(key)
        self._misses[kind] += 1
        if self._misses[kind] > self.BULK_AFTER:
            self._load(kind)
            return self._rows[kind].get(key)
        rows[key] = self.session.execute(
            select(*self._QUERIES[kind]).where(self._QUERIES[kind][0] == key)).first()
        return rows[key]

    def _load(self, kind):
        self._rows[kind] = {row[0]: row for row in self.session.execute(
            select(*self._QUERIES[kind]))}
        self._complete[kind] = True

    def unit_name(self, unit_id):
        found = self._row("unit", unit_id)
        return found.name if found else f"#{unit_id}"

    def member_name(self, member_id):
        if member_id is None:
            return None
        found = self._row("member", member_id)
        return found.name if found else f"#{member_id}"

    def union_chain(self, unit_id):
        """:func:`union_chain` today as ``[(unit_id, union_id), ...]``: the whole tree is
        loaded once, since escalation walks it for every order."""
        if self._union_of_unit is None:
            self._load("unit")
            day = today()
            self._union_of_unit = dict(self.session.execute(
                select(DirectoryUnion.unit_id, DirectoryUnion.union_id).where(
                    _started_by(DirectoryUnion.established_on, day),
                    _open_on(DirectoryUnion.closed_on, day))).all())
        if unit_id not in self._chains:
            units = self._rows["unit"]
            chain, current, seen = [], unit_id, set()
            while current is not None and current not in seen:
                seen.add(current)
                if current in self._union_of_unit:
                    chain.append((current, self._union_of_unit[current]))
                current = units[current].parent_id if current in units else None
            self._chains[unit_id] = chain
        return self._chains[unit_id]


# ------------------------------------------------------------------ the service's part


def tree_handlers(contract, method_prefix="on_"):
    """A mixin of a consuming service class: a reliable handler for each of organization's
    tree events, named from its contract module ``contract`` (``services/organization/
    events.py``), ``directory_status`` and ``resync_directory`` RPCs, and a timer that
    resyncs when the read model is marked as needing it (a fresh upgrade).

    The service needs ``db``, ``actor`` and ``organization`` (a ``ServiceRpc``); it may
    override ``directory_changed(event)`` (called after each tree event is applied, in its
    transaction), ``directory_resyncing()`` (called before a resync; what it returns is
    handed to the next hook) and ``directory_resynced(counts, actor, before)`` (called after
    every resync, the RPC's and the upgrade's automatic one, in its transaction, with the
    actor to record: the caller, or the system's tick)."""

    def handler(event_name):
        declared = getattr(contract, event_name.upper())

        def handle(self, event):
            apply(self.db, event_name, event.data, event.occurred_at)
            self.directory_changed(event)

        handle.__name__ = handle.__qualname__ = f"{method_prefix}{event_name}"
        handle.__doc__ = f"Applies ``{declared.type}`` to the read model of the tree."
        return event_handler(declared)(handle)

    class TreeReadModel:
        def directory_changed(self, event):
            """Called after a tree event is applied; nothing by default."""

        def directory_resyncing(self):
            """Called before a resync; nothing by default."""

        def directory_resynced(self, counts, actor, before):
            """Called after a resync; the audit row of the resync by default."""
            record_resync(self.db, actor, self.name, counts)

        @rpc(result=DirectoryStatus)
        def directory_status(self):
            """What the read model of organization's tree holds today, and the time of the
            latest change applied (compare with ``organization.directory_status``)."""
            return status(self.db)

        @rpc(result=DirectoryStatus, writes=True, errors=(ServiceTimeout,))
        def resync_directory(self):
            """Rebuild the read model from organization's snapshot, page by page (each call
            with a timeout), keeping changes newer than the page read."""
            return self._resync_directory(self.actor())

        @timer(interval=60)
        def resync_when_needed(self):
            """After the upgrade that created the read model, it is rebuilt here once."""
            if resync_needed(self.db):
                self._resync_directory(SYSTEM_TICK)
                self.db.commit()

        def _resync_directory(self, actor):
            before = self.directory_resyncing()
            size = int(self.config.get("DIRECTORY_PAGE_SIZE", PAGE_SIZE))
            resync(self.db, self.organization.directory_snapshot, size)
            counts = status(self.db)
            self.directory_resynced(counts, actor, before)
            return counts

    for name in EVENTS:
        setattr(TreeReadModel, f"{method_prefix}{name}", handler(name))
    return TreeReadModel


# ------------------------------------------------------------------ migrations


def create_tables(bind, resync_needed):
    """Called from a consuming service's migration: the tables, marked for a resync from
    organization when ``resync_needed`` (an upgrade that could not move every row)."""
    DIRECTORY_METADATA.create_all(bind)
    if resync_needed:
        bind.execute(pg_insert(DirectorySync).values(source="organization", resync_needed=True)
                     .on_conflict_do_nothing())


def drop_tables(bind):
    DIRECTORY_METADATA.drop_all(bind)
