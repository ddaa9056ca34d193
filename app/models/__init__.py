"""All models, importable from one place: `from app.models import Booking`."""

from app.models.accounts import LoginSession, Operator, PasswordReset
from app.models.audit import Alert, EventLog
from app.models.automations import AUTOMATION_KINDS, AutomationRun, AutomationTemplate
from app.models.base import OrgScoped
from app.models.bookings import BOOKING_STATUSES, Booking, Payment
from app.models.calls import Call, OutOfWindowReply
from app.models.care import CARE_NOTE_KINDS, CareNote
from app.models.consent import ConsentEvent, ProviderDeletion
from app.models.media import MessageMedia
from app.models.messaging import (
    AssignmentWindow,
    Message,
    MessageNumber,
    OutboxEntry,
    StatusCallback,
    Thread,
)
from app.models.notifications import Notification, NotificationSettings, PushSubscription
from app.models.office_notes import OfficeNote
from app.models.orgs import ROLES, Org, User
from app.models.payments import StripeEvent
from app.models.people import Client, Pet, Sitter, SitterTimeOff
from app.models.reads import ThreadRead
from app.models.throttle import ThrottleCount
from app.models.visits import (
    ClientAddressPoint,
    ServiceChecklist,
    SitterExclusion,
    VisitCheck,
    VisitReport,
    VisitReportReply,
)

__all__ = [
    "AUTOMATION_KINDS",
    "BOOKING_STATUSES",
    "CARE_NOTE_KINDS",
    "ROLES",
    "Alert",
    "AssignmentWindow",
    "AutomationRun",
    "AutomationTemplate",
    "Booking",
    "Call",
    "CareNote",
    "ConsentEvent",
    "Client",
    "EventLog",
    "LoginSession",
    "Message",
    "MessageMedia",
    "MessageNumber",
    "Notification",
    "NotificationSettings",
    "OfficeNote",
    "Operator",
    "Org",
    "OrgScoped",
    "OutOfWindowReply",
    "OutboxEntry",
    "PasswordReset",
    "Payment",
    "Pet",
    "ProviderDeletion",
    "PushSubscription",
    "Sitter",
    "SitterTimeOff",
    "StatusCallback",
    "StripeEvent",
    "Thread",
    "ThreadRead",
    "ThrottleCount",
    "User",
    "ClientAddressPoint",
    "ServiceChecklist",
    "SitterExclusion",
    "VisitCheck",
    "VisitReport",
    "VisitReportReply",
]
