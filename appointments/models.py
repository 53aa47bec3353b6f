"""Appointment types and appointments with their attendees (users, contacts, external e-mails)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from calendar_sync.providers.registry import PROVIDERS
from contacts.models import Company, Contact

# What a private appointment is called where its details are not shown.
# (marked for the catalogue; translated where it is shown).
PRIVATE_APPOINTMENT = gettext_noop("Private appointment")


class AppointmentType(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")

    def __str__(self) -> str:
        # The seeded types' names are in the catalogue (seed_demo), so they show in the user's
        # language; a name an administrator typed is shown as typed.
        return gettext(self.name)


class Outcome(models.TextChoices):
    PLANNED = "planned", _("Planned")
    COMPLETED = "completed", _("Completed")
    NOT_COMPLETED = "not_completed", _("Not completed")
    CANCELLED = "cancelled", _("Cancelled")
    REBOOKED = "rebooked", _("Rebooked")


# Where an appointment was made: the CRM, or a calendar provider (its id; from the registry).
Source = models.TextChoices(  # type: ignore[misc,call-overload]
    "Source",
    [("CRM", ("crm", _("CRM"))), *((p.id.upper(), (p.id, p.label)) for p in PROVIDERS.values())],
)


class Response(models.TextChoices):
    NO_ANSWER = "no_answer", _("No answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    TENTATIVE = "tentative", _("Tentative")


# What a viewer who may not see a private appointment's details is shown instead.
MASKED_BLANK = ("agenda", "location", "room_name", "room_email", "video_link")


class AppointmentQuerySet(models.QuerySet):
    """Appointments as one viewer sees them: ``seen_through(mask)`` runs ``mask`` on every
    appointment it loads (``selectors``: "Private appointment" for those whose details the
    viewer may not see)."""

    _mask: Callable[[Appointment], object] | None = None

    def seen_through(self, mask: Callable[[Appointment], object]) -> AppointmentQuerySet:
        clone = self._chain()  # type: ignore[attr-defined]
        clone._mask = mask
        return clone

    def _clone(self) -> AppointmentQuerySet:
        clone = super()._clone()  # type: ignore[misc]
        clone._mask = self._mask
        return clone

    def _fetch_all(self) -> None:
        loading = self._result_cache is None
        super()._fetch_all()
        if loading and self._mask is not None and self._result_cache:
            for obj in self._result_cache:
                if isinstance(obj, Appointment):
                    self._mask(obj)


class Appointment(models.Model):
    title = models.CharField(_("title"), max_length=255)
    appointment_type = models.ForeignKey(
        AppointmentType,
        verbose_name=_("appointment type"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    all_day = models.BooleanField(_("all day"), default=False)
    location = models.CharField(_("place"), max_length=255, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    description = models.TextField(_("description"), blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organizer"),
        on_delete=models.PROTECT,
        related_name="organized_appointments",
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.PLANNED
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.CRM
    )
    locked = models.BooleanField(_("locked"), default=False)
    lock_reason = models.CharField(_("lock reason"), max_length=255, blank=True)
    # A locked invitation: who invited (``lock_reason_text`` says it in the reader's language).
    lock_invited_by = models.EmailField(_("locked: invited by"), blank=True)
    # Set when the calendar event behind the appointment was cancelled/deleted at the provider;
    # the appointment itself stays (the spec: a delete in the calendar does not delete it here).
    cancelled_at = models.DateTimeField(_("cancelled in calendar"), null=True, blank=True)
    video_link = models.URLField(_("video link"), max_length=1000, blank=True)
    # The organizer ticked "Add Google Meet link" / "Add Teams meeting"; the provider fills
    # ``video_link`` once the meeting exists.
    video_requested = models.BooleanField(_("video meeting requested"), default=False)
    room_name = models.CharField(_("room"), max_length=255, blank=True)
    room_email = models.EmailField(_("room e-mail"), blank=True)
    # A meeting organised outside the CRM (an invitation): who organised it, and the rep's own
    # answer as their calendar has it. Blank for meetings the rep organises.
    invited_by_email = models.EmailField(_("invited by (e-mail)"), blank=True)
    invited_by_name = models.CharField(_("invited by"), max_length=200, blank=True)
    own_response = models.CharField(
        _("your response"), max_length=12, choices=Response.choices, blank=True
    )
    # Marked private in the calendar (Google visibility, Graph sensitivity), or booked as
    # private in the CRM: colleagues see "Private appointment", the provider hides it too.
    private = models.BooleanField(_("private"), default=False)
    # A private event from the rep's calendar logged without its details (the connection's
    # "private events" setting): no title, agenda, place, room or video link is stored; it
    # reads "Private appointment" and the CRM never writes it back to the calendar.
    details_hidden = models.BooleanField(_("logged without details"), default=False)
    follow_up_of = models.ForeignKey(
        "self",
        verbose_name=_("follow-up of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        permissions = [("view_all_appointments", _("Can see every user's appointments"))]
        indexes = [
            models.Index(fields=["organizer", "start"]),
            models.Index(fields=["start"]),
            models.Index(fields=["company", "start"]),
            models.Index(fields=["appointment_type", "start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="appt_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    def save(self, *args, **kwargs) -> None:
        # A masked appointment (``selectors``) carries "Private appointment" and blanks in
        # place of its details: they must never be saved over the real ones.
        masked: frozenset[str] = getattr(self, "masked_fields", frozenset())
        update_fields = kwargs.get("update_fields")
        if masked and (update_fields is None or masked & set(update_fields)):
            raise RuntimeError("a masked appointment's hidden details cannot be saved")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("appointments:detail", args=[self.pk])

    @property
    def lock_reason_text(self) -> str:
        """Why it is locked, in the reader's language ("" when no reason is known)."""
        if self.lock_invited_by:
            return gettext("Invited by %(email)s: only the organizer can change it") % {
                "email": self.lock_invited_by
            }
        return self.lock_reason

    @property
    def display_title(self) -> str:
        """The title as shown: a private event logged without details has none stored."""
        return self.title or (gettext(PRIVATE_APPOINTMENT) if self.details_hidden else "")


class AttendeeKind(models.TextChoices):
    USER = "user", _("User")
    CONTACT = "contact", _("Contact")
    EXTERNAL = "external", _("External")


class Attendee(models.Model):
    """A participant other than the organizer: a CRM user, a contact, or an unmatched e-mail."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="attendees")
    kind = models.CharField(max_length=10, choices=AttendeeKind.choices)
    # user_id and contact_id are each the first column of an index in Meta: no index of their own
    # (a first import writes an attendee per participant, and every index with it).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attended_appointments",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attendances",
        db_index=False,
    )
    # The address the invitation goes to (lower-cased); blank for a contact without e-mail.
    email = models.EmailField(_("e-mail"), blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    response = models.CharField(
        _("response"), max_length=12, choices=Response.choices, default=Response.NO_ANSWER
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")
        indexes = [
            models.Index(fields=["user", "appointment"]),
            models.Index(fields=["contact", "appointment"]),
            models.Index(fields=["email"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "user"],
                condition=models.Q(user__isnull=False),
                name="attendee_unique_user",
            ),
            models.UniqueConstraint(
                fields=["appointment", "contact"],
                condition=models.Q(contact__isnull=False),
                name="attendee_unique_contact",
            ),
            models.UniqueConstraint(
                fields=["appointment", "email"],
                condition=models.Q(kind="external"),
                name="attendee_unique_external_email",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="user", user__isnull=False, contact__isnull=True)
                    | models.Q(kind="contact", contact__isnull=False, user__isnull=True)
                    | models.Q(kind="external", user__isnull=True, contact__isnull=True)
                ),
                name="attendee_kind_matches_fk",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.name or str(self.contact or self.user)

    def save(self, *args, **kwargs) -> None:
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)
