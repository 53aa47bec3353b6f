"""factory_boy factories shared by the tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from appointments.models import Appointment, AppointmentType, Attendee, AttendeeKind
from appointments.services import sales_reps_group_ensure
from contacts.models import Company, Contact, ContactEmail


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"user{n}@exempel.se")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def sales_rep(self, create, extracted, **kwargs):
        # Reps by default; pass sales_rep=False for a user without CRM permissions.
        if create and extracted is not False:
            self.groups.add(sales_reps_group_ensure())
        if create:
            self.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Företag {n} AB")
    email_domains = factory.Sequence(lambda n: f"foretag{n}.se")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    name = factory.Faker("name")
    company = factory.SubFactory(CompanyFactory)

    @factory.post_generation
    def emails(self, create, extracted, **kwargs):
        if not create:
            return
        addresses = extracted if extracted is not None else [f"contact{self.pk}@kund.se"]
        for i, email in enumerate(addresses):
            ContactEmail.objects.create(contact=self, email=email, is_primary=(i == 0))


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentType
        django_get_or_create = ("name",)

    name = "Meeting"


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    title = factory.Sequence(lambda n: f"Möte {n}")
    appointment_type = factory.SubFactory(AppointmentTypeFactory)
    organizer = factory.SubFactory(UserFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=1))


class AttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendee

    appointment = factory.SubFactory(AppointmentFactory)
    kind = AttendeeKind.USER
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "")


def add_user_attendee(appointment: Appointment, user) -> Attendee:
    return Attendee.objects.create(
        appointment=appointment, kind=AttendeeKind.USER, user=user, email=user.email
    )


def add_contact_attendee(appointment: Appointment, contact: Contact) -> Attendee:
    return Attendee.objects.create(
        appointment=appointment,
        kind=AttendeeKind.CONTACT,
        contact=contact,
        email=contact.primary_email,
        name=contact.name,
    )
