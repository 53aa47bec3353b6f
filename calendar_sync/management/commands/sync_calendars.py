"""``python manage.py sync_calendars [--user EMAIL] [--full] [--no-push]``: sync now, as the
worker does (import the calendar's changes, then push the CRM changes still pending), with a
progress bar."""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from calendar_sync.models import CalendarConnection, ConnectionState
from calendar_sync.sync import engine, exporter


class Command(BaseCommand):
    help = (
        "Sync every active connection (or one rep's) right now: import the calendar's changes, "
        "then push the CRM changes still pending."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--user", help="only this rep (login e-mail)")
        parser.add_argument("--full", action="store_true", help="re-read the whole window")
        parser.add_argument(
            "--no-push", action="store_true", help="only import; leave pending CRM changes"
        )

    def handle(self, *args, **options) -> None:
        connections = CalendarConnection.objects.filter(
            state=ConnectionState.ACTIVE, appointment_type__isnull=False
        ).select_related("user")
        if options["user"]:
            connections = connections.filter(user__email__iexact=options["user"])
            if not connections.exists():
                raise CommandError(f"No active calendar connection for {options['user']}.")
        totals: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        for connection in tqdm(
            list(connections), desc="Syncing", unit="calendar", file=self.stderr
        ):
            run = engine.sync_connection(connection.pk, trigger="command", full=options["full"])
            if run is None:
                totals["busy"] += 1
                continue
            totals.update(
                fetched=run.fetched,
                created=run.created,
                updated=run.updated,
                cancelled=run.cancelled,
                provider_requests=run.provider_requests,
                errors=bool(run.error),
            )
            if not options["no_push"]:
                exported = exporter.export_pending_after(run, connection.pk)
                totals.update(exported=exported.get("created", 0) + exported.get("updated", 0))
            skipped.update(run.skipped)
            if run.error:
                self.stderr.write(f"{connection.account_email}: {run.error}")
        self.stdout.write(self._summary(totals, skipped))

    def _summary(self, totals: Counter[str], skipped: Counter[str]) -> str:
        lines = [
            f"fetched: {totals['fetched']}",
            f"created: {totals['created']}",
            f"updated: {totals['updated']}",
            f"cancelled: {totals['cancelled']}",
            f"skipped: {sum(skipped.values())}",
            *(f"  {reason}: {count}" for reason, count in sorted(skipped.items())),
            f"pushed (pending CRM changes): {totals['exported']}",
            f"provider requests: {totals['provider_requests']}",
        ]
        if totals["busy"]:
            lines.append(f"busy (another sync was running): {totals['busy']}")
        if totals["errors"]:
            lines.append(f"errors: {totals['errors']}")
        return "\n".join(lines)
