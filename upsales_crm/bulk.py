"""Bulk writes for rows the importer built itself, in as few statements as the backend allows.

A first import writes an appointment, its attendees, an EventLink and a meeting key for every
event. ``bulk_create`` spends most of that time in Python, not in the database: per value it
re-runs the field's full preparation and it assembles one SQL string per batch (999 parameters
on SQLite). Here each column's preparation is chosen once, values are taken as the planner set
them (datetimes through the backend's own adaptation, plain columns as they are, any other
field type through its ``get_db_prep_save``), and the rows go to the database as:

- SQLite: one statement prepared once and bound per row (``executemany``, a loop in C); rows
  whose new ids are needed go as multi-row ``INSERT ... RETURNING`` (as many rows per
  statement as SQLite's variable limit allows).
- PostgreSQL: ``COPY`` for plain inserts; one ``INSERT ... SELECT * FROM UNNEST(<one binary
  array per column>)`` for an upsert, an insert that ignores conflicts or one that returns the
  new ids. Either is one statement for the whole page, where ``executemany`` made the server
  parse, plan and run one INSERT per row (measured on 2,500 rows: ~0.17 s of server CPU that
  way, ~0.04 s as a COPY or an UNNEST; Django's ``bulk_create`` spends ~0.15 s of client CPU
  on 2,500 appointments, this ~0.02 s).

Every statement goes through Django's cursor wrappers (``execute_wrapper``, the debug log that
``CaptureQueriesContext`` reads, database errors as ``django.db`` exceptions), COPY included.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from operator import attrgetter
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

M = TypeVar("M", bound=models.Model)

# Exact types (not subclasses: an encrypted TextField must keep its own preparation).
PLAIN_FIELDS: tuple[type[models.Field], ...] = (
    models.CharField,
    models.EmailField,
    models.URLField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
)
INTEGER_KEYS: tuple[type[models.Field], ...] = (models.AutoField, models.BigAutoField)
SQLITE_DEFAULT_VARIABLES = 999  # SQLite before 3.32, when the connection cannot say


# model -> (the attributes of a new instance holding its defaults, its columns' attnames)
_TEMPLATES: dict[type[models.Model], tuple[dict[str, Any], frozenset[str]] | None] = {}


def _template(model: type[models.Model]) -> tuple[dict[str, Any], frozenset[str]] | None:
    """A new instance's attributes, when they can be shared between instances (no callable
    default, nothing listening to the init signals); else None."""
    if model not in _TEMPLATES:
        fields = model._meta.concrete_fields
        plain = not any(f.has_default() and callable(f.default) for f in fields)
        quiet = not (pre_init.has_listeners(model) or post_init.has_listeners(model))
        attrs = {k: v for k, v in vars(model()).items() if k != "_state"}
        names = frozenset(f.attname for f in fields)
        _TEMPLATES[model] = (attrs, names) if plain and quiet else None
    return _TEMPLATES[model]


def build(model: type[M], **values: Any) -> M:
    """A new, unsaved instance for ``create_rows``, as ``model(**values)``: a copy of one
    instance holding the model's defaults, then the values (a first import builds thousands;
    Django's ``__init__`` walks every field per instance: ~25 us for an appointment, this
    ~2 us). Column values (by attname) go straight in, as ``__init__`` puts them; anything
    else (a related object by field name) through its descriptor."""
    template = _template(model)
    if template is None:
        return model(**values)
    attrs, names = template
    obj = model.__new__(model)
    obj.__dict__.update(attrs)
    obj._state = ModelState()
    for name, value in values.items():
        if name in names:
            obj.__dict__[name] = value
        else:
            setattr(obj, name, value)
    return obj


def _sqlite_datetime(db: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """SQLite's ``adapt_datetimefield_value`` for aware datetimes (the text of the naive time in
    the connection's zone) without its per-value setting and zone lookups: a first import
    prepares several datetimes an event. Anything else goes to Django's own."""
    zone, django_adapt = db.timezone, db.ops.adapt_datetimefield_value
    datetime = dt.datetime

    def adapt(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is datetime and zone is not None:
            if value.tzinfo is zone:  # the sync's datetimes are UTC, as the connection's zone
                return str(value.replace(tzinfo=None))
            if value.utcoffset() is not None:
                return str(value.astimezone(zone).replace(tzinfo=None))
        return django_adapt(value)

    return adapt


def _preparer(field: models.Field, db: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
    """How a value of ``field`` is handed to the driver; None: as it is."""
    kind = type(field)
    if kind is models.DateTimeField:
        return _sqlite_datetime(db) if db.vendor == "sqlite" else db.ops.adapt_datetimefield_value
    if kind in PLAIN_FIELDS:
        return None
    if isinstance(field, models.ForeignKey) and type(field.target_field) in INTEGER_KEYS:
        return None
    return lambda value: field.get_db_prep_save(value, db)


def _stamps(
    fields: list[models.Field], objs: Sequence[object], db: BaseDatabaseWrapper
) -> dict[int, Any]:
    """auto_now / auto_now_add, as bulk_create's pre_save would, with one stamp for the whole
    write: set on the objects, and prepared for the driver once (by column index), not per row."""
    stamped = [
        i
        for i, f in enumerate(fields)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    if not stamped:
        return {}
    now = timezone.now()
    names = [fields[i].attname for i in stamped]
    for obj in objs:
        for name in names:
            setattr(obj, name, now)
    prepared = {}
    for i in stamped:
        prep = _preparer(fields[i], db)
        prepared[i] = prep(now) if prep is not None else now
    return prepared


def _values(fields: list[models.Field], objs: Sequence[object], db: BaseDatabaseWrapper
            ) -> list[list[Any]]:  # fmt: skip
    """Every row's column values as the driver takes them."""
    stamps = _stamps(fields, objs, db)
    values = attrgetter(*(f.attname for f in fields))  # one C call per row
    prepared = [
        (i, p)
        for i, p in enumerate(_preparer(f, db) for f in fields)
        if p is not None and i not in stamps
    ]
    rows = []
    for obj in objs:
        row = list(values(obj))
        for i, prep in prepared:
            row[i] = prep(row[i])
        for i, stamp in stamps.items():
            row[i] = stamp
        rows.append(row)
    return rows


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return field.column


def _conflict_sql(
    db: BaseDatabaseWrapper,
    model: type[models.Model],
    fields: list[models.Field],
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    ignore_conflicts: bool,
) -> str:
    if ignore_conflicts:
        return db.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, [], []) or ""
    if not unique_fields:
        return ""
    return db.ops.on_conflict_suffix_sql(
        fields,
        OnConflict.UPDATE,
        [_column(model, name) for name in update_fields],
        [_column(model, name) for name in unique_fields],
    )


def _run(cursor: CursorWrapper, sql: str, params: Any, many: bool,
         executor: Callable[..., Any]) -> Any:  # fmt: skip
    """``executor`` as Django runs a statement: through the connection's execute wrappers, in
    the debug log when it is on, its errors as ``django.db`` exceptions."""

    def guarded(sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        cursor.db.validate_no_broken_transaction()
        with cursor.db.wrap_database_errors:
            return executor(sql, params)

    logged = (
        cursor.debug_sql(sql, params, many=many)
        if isinstance(cursor, CursorDebugWrapper)
        else nullcontext()
    )
    with logged:
        return cursor._execute_with_wrappers(sql, params, many, guarded)


def _copy(cursor: CursorWrapper, table: str, columns: str, rows: list[list[Any]]) -> None:
    """PostgreSQL's COPY FROM STDIN: the rows stream to the server as one statement."""

    def copy(sql: str, rows: list[list[Any]]) -> None:
        with cursor.cursor.copy(sql) as stream:
            for row in rows:
                stream.write_row(row)

    _run(cursor, f"COPY {table} ({columns}) FROM STDIN", rows, True, copy)


def _unnest(cursor: CursorWrapper, head: str, fields: list[models.Field],
            rows: list[list[Any]], tail: str) -> list[tuple[Any, ...]]:  # fmt: skip
    """``<head> SELECT * FROM UNNEST(<one array per column>) <tail>`` (as Django's own bulk
    insert on PostgreSQL): one statement for any number of rows, planned once. The arrays go
    as binary parameters of a server-side-binding cursor on the same connection: Django's
    client-side binding would quote every element into the SQL text in Python (measured ~5x
    the client CPU). Returns what the statement returns (``RETURNING``), else []."""
    import psycopg

    types = [f.db_type(cursor.db).split("(")[0] for f in fields]  # type: ignore[union-attr]
    arrays = [list(column) for column in zip(*rows, strict=True)]
    unnest = ", ".join(f"%b::{t}[]" for t in types)
    sql = f"{head} SELECT * FROM UNNEST({unnest}) {tail}".rstrip()  # noqa: S608 - model meta

    def execute(sql: str, arrays: list[list[Any]]) -> list[tuple[Any, ...]]:
        with psycopg.Cursor(cursor.cursor.connection) as raw:
            raw.execute(sql, arrays)
            return raw.fetchall() if raw.description else []

    return _run(cursor, sql, arrays, False, execute)


def _sqlite_rows_per_statement(db: BaseDatabaseWrapper, columns: int) -> int:
    raw = db.connection
    try:
        limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # Python < 3.11
        limit = SQLITE_DEFAULT_VARIABLES
    return max(1, limit // columns)


def _chunks(rows: list[list[Any]], size: int) -> Iterator[list[list[Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_rows(
    model: type[models.Model],
    objs: Sequence[object],
    *,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
    ignore_conflicts: bool = False,
) -> None:
    """INSERT ``objs`` (their pks are not read back); with ``unique_fields``, a row that exists
    already gets ``update_fields`` from the new one (upsert); with ``ignore_conflicts`` it stays
    as it is and the new one is dropped. ``objs`` are model instances or plain rows (see
    ``calendar_sync.sync.rows``): anything with the model's attribute names (``appointment_id``,
    not ``appointment``)."""
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    quote = db.ops.quote_name
    # Identifiers come from the model's meta, quoted by the backend; values are parameters.
    table = quote(opts.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    conflict = _conflict_sql(db, model, fields, unique_fields, update_fields, ignore_conflicts)
    rows = _values(fields, objs, db)
    with db.cursor() as cursor:
        if db.vendor == "postgresql" and not conflict:
            _copy(cursor, table, columns, rows)
        elif db.vendor == "postgresql":
            _unnest(cursor, f"INSERT INTO {table} ({columns})", fields, rows, conflict)
        else:
            on_conflict = OnConflict.IGNORE if ignore_conflicts else None
            sql = "{} {} ({}) VALUES ({}) {}".format(
                db.ops.insert_statement(on_conflict=on_conflict),
                table,
                columns,
                ", ".join(["%s"] * len(fields)),
                conflict,
            )
            cursor.executemany(sql.rstrip(), rows)


def _returning(db: BaseDatabaseWrapper, model: type[models.Model], rows: list[list[Any]],
               fields: list[models.Field], returning: str, *, ignore: bool = False
               ) -> list[tuple[Any, ...]]:  # fmt: skip
    """INSERT the rows (``ignore``: skipping those that conflict) with ``returning`` (a
    ``RETURNING`` clause): one UNNEST statement on PostgreSQL, multi-row INSERTs as large as
    SQLite's variable limit allows."""
    quote = db.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    found: list[tuple[Any, ...]] = []
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            tail = f"ON CONFLICT DO NOTHING {returning}" if ignore else returning
            return _unnest(cursor, f"INSERT INTO {table} ({columns})", fields, rows, tail)
        verb = "INSERT OR IGNORE" if ignore else "INSERT"
        for chunk in _chunks(rows, _sqlite_rows_per_statement(db, len(fields))):
            one = "({})".format(", ".join(["%s"] * len(fields)))
            values = ", ".join([one] * len(chunk))
            params = [value for row in chunk for value in row]
            insert = f"{verb} INTO {table} ({columns}) VALUES {values} {returning}"  # noqa: S608
            cursor.execute(insert, params)
            found += cursor.fetchall()
    return found


def _can_return(db: BaseDatabaseWrapper) -> bool:
    return db.vendor in ("postgresql", "sqlite") and db.features.can_return_rows_from_bulk_insert


def claim_rows(model: type[models.Model], objs: Sequence[object], returning: Sequence[str]
               ) -> list[tuple[Any, ...]] | None:  # fmt: skip
    """INSERT ``objs`` ignoring conflicts (as ``insert_rows(..., ignore_conflicts=True)``) and
    return the ``returning`` columns of the rows that went in, so a caller learns which of its
    claims won without reading them back; None where the backend cannot say."""
    if not objs:
        return []
    db = connections[router.db_for_write(model)]
    if not _can_return(db):
        insert_rows(model, objs, ignore_conflicts=True)
        return None
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = ", ".join(db.ops.quote_name(_column(model, name)) for name in returning)
    return _returning(db, model, _values(fields, objs, db), fields, f"RETURNING {names}",
                      ignore=True)  # fmt: skip


def create_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT new model instances and set their pks, as ``bulk_create`` does (auto_now stamps,
    saved state; no signals): one statement per page on PostgreSQL, as few as SQLite's
    variable limit allows there. Backends that cannot return the ids use ``bulk_create``."""
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    if not _can_return(db):
        model._default_manager.bulk_create(objs)
        return
    pk = model._meta.pk
    assert pk is not None
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    returning = f"RETURNING {db.ops.quote_name(str(pk.column))}"
    # One id per row, in the rows' order (as bulk_create relies on too).
    found = _returning(db, model, _values(fields, objs, db), fields, returning)
    for obj, (new_id,) in zip(objs, found, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = db.alias
