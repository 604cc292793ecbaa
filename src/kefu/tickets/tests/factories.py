"""Scenery only: tickets made here bypass services (no audit events). Use services where behaviour matters."""

import factory
from django.utils import timezone

from kefu.customers.tests.factories import CustomerFactory
from kefu.tickets.models import Ticket


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    number = factory.Sequence(lambda n: f"T20260101{n:05d}")
    subject = factory.Sequence(lambda n: f"咨询{n}")
    customer = factory.SubFactory(CustomerFactory)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
