"""The customer profile: :class:`ProfileScreen` and one widget per tab.

The profile's modals are loaded when first asked for (here too): opening a profile does not
need them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from frontdesk.screens.profile.screen import TABS, ProfileScreen, first_reads, load_tabs

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in __all__:  # a modal (the other names are defined above)
        return getattr(importlib.import_module("frontdesk.screens.profile.modals"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "load_tabs",
]
