"""The customer profile: :class:`ProfileScreen` and one widget per tab."""

from frontdesk.screens.profile.modals import (
    EnrolModal,
    EnrolRequest,
    MoneyRequest,
    NoteModal,
    NoteRequest,
    PaymentModal,
    PointsModal,
    PointsRequest,
    RefundModal,
)
from frontdesk.screens.profile.screen import TABS, ProfileScreen, first_reads

__all__ = [
    "TABS",
    "EnrolModal",
    "EnrolRequest",
    "MoneyRequest",
    "NoteModal",
    "NoteRequest",
    "PaymentModal",
    "PointsModal",
    "PointsRequest",
    "ProfileScreen",
    "RefundModal",
    "first_reads",
]
