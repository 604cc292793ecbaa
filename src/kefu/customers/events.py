from django.utils.translation import gettext_lazy as _

from kefu.core.events import register

CUSTOMER_CREATED = register("customer.created", _("Customer {name} created"))
IDENTITY_ADDED = register("customer.identity_added", _("Identity {kind} {value} added"))
CUSTOMER_MERGED = register("customer.merged", _("Customer #{source_id} merged into #{target_id}"))
CUSTOMER_UPDATED = register("customer.updated", _("Customer fields changed: {fields}"))
