"""One parameterised INSERT run for many rows (``executemany``), for rows the importer built itself.

A first import writes an EventLink and the attendees for every event. ``bulk_create`` spends most
of that time in Python, not in the database: per value it re-runs the field's full preparation
and it assembles one SQL string per batch (999 parameters on SQLite). Here the statement is
built once and the driver binds the rows (one query; psycopg pipelines it). Values are taken as
the planner set them: datetimes go through the backend's own adaptation, plain columns pass as
they are, and any other field type still gets its ``get_db_prep_save``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.constants import OnConflict
from django.utils import timezone

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


def _preparer(field: models.Field, db: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
    """How a value of ``field`` is handed to the driver; None: as it is."""
    kind = type(field)
    if kind is models.DateTimeField:
        return db.ops.adapt_datetimefield_value
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


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column
    return field.column


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
    ``rows``): anything with the model's attribute names (``appointment_id``, not ``appointment``)."""
    if not objs:
        return
    db = connections[router.db_for_write(model)]
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    prepare = [_preparer(f, db) for f in fields]
    quote = db.ops.quote_name
    # Identifiers come from the model's meta, quoted by the backend; values are parameters.
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = "{} {} ({}) VALUES ({})".format(
        db.ops.insert_statement(on_conflict=on_conflict),
        quote(opts.db_table),
        ", ".join(quote(str(f.column)) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    if ignore_conflicts:
        sql = f"{sql} {db.ops.on_conflict_suffix_sql(fields, on_conflict, [], [])}".rstrip()
    elif unique_fields:
        suffix = db.ops.on_conflict_suffix_sql(
            fields,
            OnConflict.UPDATE,
            [_column(model, name) for name in update_fields],
            [_column(model, name) for name in unique_fields],
        )
        sql = f"{sql} {suffix}"
    stamps = _stamps(fields, objs, db)
    values = attrgetter(*(f.attname for f in fields))  # one C call per row
    prepared = [(i, p) for i, p in enumerate(prepare) if p is not None and i not in stamps]
    rows = []
    for obj in objs:
        row = list(values(obj))
        for i, prep in prepared:
            row[i] = prep(row[i])
        for i, stamp in stamps.items():
            row[i] = stamp
        rows.append(row)
    with db.cursor() as cursor:
        cursor.executemany(sql, rows)
