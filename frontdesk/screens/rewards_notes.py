"""The modals of the Rewards and Notes tabs now live with the profile they belong to."""

from frontdesk.screens.profile.modals import (
    EnrolModal,
    EnrolRequest,
    NoteModal,
    NoteRequest,
    PointsModal,
    PointsRequest,
)

__all__ = [
    "EnrolModal",
    "EnrolRequest",
    "NoteModal",
    "NoteRequest",
    "PointsModal",
    "PointsRequest",
]
