"""Demo data: two sales reps and an admin, Nordic customers, and appointments around today.

Idempotent: everything is looked up by a natural key first, so a second run changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from appointments import services
from appointments.models import Appointment, AppointmentType, Outcome
from contacts import services as contact_services
from contacts.models import Company, Contact

PASSWORD = "demo-pass-2024"  # noqa: S105 - published demo password
STOCKHOLM = ZoneInfo("Europe/Stockholm")

USERS = [
    # email, first, last, superuser, aliases
    (
        "karl.andersson@exempel.se",
        "Karl",
        "Andersson",
        False,
        ["karl@exempel.se", "karl@sthlm.exempel.se"],
    ),
    ("eva.lind@exempel.se", "Eva", "Lind", False, []),
    ("admin@exempel.se", "Admin", "", True, []),
]
# Stored in English; shown in the user's language (AppointmentType.__str__ translates them).
TYPES = [
    gettext_noop("Meeting"),
    gettext_noop("Phone call"),
    gettext_noop("Demo"),
    gettext_noop("Lunch"),
]
COMPANIES = [
    (
        "Acme Sverige AB",
        "https://acme.se",
        "+46 8 555 010 00",
        "Sveavägen 44, Stockholm",
        "acme.se acme.com",
    ),
    (
        "Nordisk Logistik AB",
        "https://nordisklogistik.se",
        "+46 31 555 020 00",
        "Lilla Bommen 1, Göteborg",
        "nordisklogistik.se",
    ),
    (
        "Fjällvind Energi AB",
        "https://fjallvind.se",
        "+46 63 555 030 00",
        "Storgatan 12, Östersund",
        "fjallvind.se",
    ),
    (
        "Ljusgården Fastigheter",
        "https://ljusgarden.se",
        "+46 40 555 040 00",
        "Stortorget 3, Malmö",
        "ljusgarden.se",
    ),
    (
        "Bergström & Co AS",
        "https://bergstrom.no",
        "+47 22 55 50 00",
        "Karl Johans gate 20, Oslo",
        "bergstrom.no",
    ),
]
CONTACTS = [
    # name, title, company, e-mails (first is primary)
    ("Johan Ek", "IT-chef", "Acme Sverige AB", ["johan.ek@acme.se"]),
    ("Maria Holm", "Inköpschef", "Acme Sverige AB", ["maria.holm@acme.se", "maria@acme.com"]),
    ("Anna Berg", "VD", "Nordisk Logistik AB", ["anna.berg@nordisklogistik.se"]),
    ("Lars Persson", "Lagerchef", "Nordisk Logistik AB", []),
    ("Erik Nilsson", "Ekonomichef", "Fjällvind Energi AB", ["erik.nilsson@fjallvind.se"]),
    ("Sara Lundqvist", "Projektledare", "Fjällvind Energi AB", ["sara.lundqvist@fjallvind.se"]),
    ("Sofia Wikström", "Förvaltare", "Ljusgården Fastigheter", ["sofia.wikstrom@ljusgarden.se"]),
    ("Oskar Dahl", "Fastighetschef", "Ljusgården Fastigheter", ["oskar.dahl@ljusgarden.se"]),
    ("Ingrid Bergström", "Daglig leder", "Bergström & Co AS", ["ingrid@bergstrom.no"]),
    ("Mikkel Hansen", "Salgssjef", "Bergström & Co AS", ["mikkel.hansen@bergstrom.no"]),
]
APPOINTMENTS = [
    # organizer, title, business-day offset, hh:mm, minutes, type, company, contacts, users,
    # external e-mails, location, outcome when past
    ("karl", "Årsavtal 2025 – uppföljning", -6, "10:00", 60, "Meeting", "Nordisk Logistik AB", ["Anna Berg"], [], [], "Lilla Bommen 1, Göteborg", Outcome.COMPLETED),
    ("karl", "Avstämning offert", -3, "14:00", 30, "Phone call", "Fjällvind Energi AB", ["Erik Nilsson"], [], [], "", Outcome.NOT_COMPLETED),
    ("karl", "Lunch med Ljusgården", -1, "12:00", 60, "Lunch", "Ljusgården Fastigheter", ["Sofia Wikström"], ["eva"], [], "Restaurang Prinsen, Stockholm", Outcome.COMPLETED),
    ("karl", "Demo av kalenderintegration", 1, "09:30", 60, "Demo", "Acme Sverige AB", ["Johan Ek", "Maria Holm"], ["eva"], ["it-support@acme.se"], "Sveavägen 44, Stockholm", None),
    ("karl", "Förhandling serviceavtal", 3, "13:00", 45, "Meeting", "Nordisk Logistik AB", ["Anna Berg", "Lars Persson"], [], [], "Teams", None),
    ("karl", "Uppföljning efter demo", 8, "10:00", 30, "Phone call", "Acme Sverige AB", ["Maria Holm"], [], [], "", None),
    ("eva", "Kickoff pilotprojekt", -4, "15:00", 60, "Meeting", "Bergström & Co AS", ["Ingrid Bergström"], [], [], "Karl Johans gate 20, Oslo", Outcome.COMPLETED),
    ("eva", "Produktdemo för ledningsgruppen", 2, "11:00", 60, "Demo", "Fjällvind Energi AB", ["Erik Nilsson", "Sara Lundqvist"], ["karl"], [], "Storgatan 12, Östersund", None),
    ("eva", "Lunch – behovsanalys", 6, "12:00", 90, "Lunch", "Ljusgården Fastigheter", ["Oskar Dahl"], [], [], "Malmö Saluhall", None),
    ("eva", "Kvartalsgenomgång", 9, "14:00", 60, "Meeting", "Bergström & Co AS", ["Ingrid Bergström", "Mikkel Hansen"], [], [], "Teams", None),
]  # fmt: skip


def business_day(today: date, offset: int) -> date:
    """The date `offset` working days (Mon–Fri) from today."""
    step = 1 if offset >= 0 else -1
    day, left = today, abs(offset)
    while left:
        day += timedelta(days=step)
        if day.weekday() < 5:
            left -= 1
    return day


class Command(BaseCommand):
    help = "Create demo users, customers and appointments (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = self._users()
        admin = users["admin"]
        types = {name: AppointmentType.objects.get_or_create(name=name)[0] for name in TYPES}
        companies = self._companies(admin)
        contacts = self._contacts(admin, companies)
        created = self._appointments(users, types, companies, contacts)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new appointments)."))
        for email, *_ in USERS:
            self.stdout.write(f"  {email} / {PASSWORD}")

    def _users(self) -> dict:
        User = get_user_model()
        reps = services.sales_reps_group_ensure()
        team, _ = Group.objects.get_or_create(name="Stockholm")
        result = {}
        for email, first, last, superuser, aliases in USERS:
            user, created = User.objects.get_or_create(
                username=email,
                defaults={
                    "email": email,
                    "first_name": first,
                    "last_name": last,
                    "is_superuser": superuser,
                    "is_staff": superuser,
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            for alias in aliases:
                contact_services.user_alias_add(user=user, email=alias)
            if not superuser:
                user.groups.add(reps, team)
            result[email.split(".")[0].split("@")[0]] = user
        return result

    def _companies(self, admin) -> dict[str, Company]:
        result = {}
        for name, website, phone, address, domains in COMPANIES:
            company = Company.objects.filter(name=name).first()
            if company is None:
                company = contact_services.company_create(
                    actor=admin,
                    name=name,
                    website=website,
                    phone=phone,
                    address=address,
                    email_domains=domains,
                )
            result[name] = company
        return result

    def _contacts(self, admin, companies) -> dict[str, Contact]:
        result = {}
        for name, title, company_name, emails in CONTACTS:
            company = companies[company_name]
            contact = Contact.objects.filter(name=name, company=company).first()
            if contact is None:
                contact = contact_services.contact_create(
                    actor=admin, name=name, title=title, company=company, emails=emails
                )
            result[name] = contact
        return result

    def _appointments(self, users, types, companies, contacts) -> int:
        today = timezone.localdate(timezone=STOCKHOLM)
        now = timezone.now()
        created = 0
        for row in APPOINTMENTS:
            (who, title, offset, hhmm, minutes, type_name, company, people, colleagues,
             externals, location, outcome) = row  # fmt: skip
            organizer = users[who]
            if Appointment.objects.filter(organizer=organizer, title=title).exists():
                continue
            day = business_day(today, offset)
            start = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=STOCKHOLM)
            appointment = services.appointment_create(
                organizer=organizer,
                title=title,
                appointment_type=types[type_name],
                start=start,
                end=start + timedelta(minutes=minutes),
                location=location,
                agenda="Agenda:\n1. Nuläge\n2. Behov\n3. Nästa steg",
                company=companies[company],
                contacts=[contacts[n] for n in people],
                users=[users[u] for u in colleagues],
                external_emails=externals,
            )
            if outcome and appointment.end < now:
                services.appointment_set_outcome(
                    appointment=appointment, actor=organizer, outcome=outcome, now=now
                )
            created += 1
        return created
