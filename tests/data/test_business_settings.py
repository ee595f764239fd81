"""The business settings as the settings screen's Business tab lists and saves them."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from frontdesk.data.audit_log import load_audit_page
from frontdesk.data.business_settings import (
    CATALOGUE,
    GROUPS,
    load_business_settings,
    save_business_setting,
)
from frontdesk.data.errors import ValidationFailed
from frontdesk.data.models import AuditEvent, Setting
from frontdesk.data.roles import NotAllowed
from frontdesk.data.settings import DEFAULTS, get_setting
from tests.actors import ADMIN, DESK, THERAPIST


def test_every_business_setting_is_listed_once_in_a_group() -> None:
    keys = [info.key for info in CATALOGUE if info.editable]
    assert sorted(keys) == sorted(DEFAULTS)
    assert len(keys) == len(set(keys))
    assert {info.group for info in CATALOGUE} == set(GROUPS)
    # One line each, so the tab's table fits a terminal.
    assert all(len(info.description) <= 56 for info in CATALOGUE)


def test_the_list_shows_defaults_and_stored_values_never_a_secret(session: Session) -> None:
    save_business_setting(session=session, key="reminder_hours", value="12", actor=ADMIN)
    rows = {row.key: row for row in load_business_settings(session=session)}
    assert (rows["reminder_hours"].text, rows["reminder_hours"].is_default) == ("12", False)
    assert (rows["lapsed_after_days"].text, rows["lapsed_after_days"].is_default) == ("180", True)
    assert rows["auto_confirm_requests"].text == "no"
    assert rows["smtp_security"].info.options == ("none", "starttls", "tls")
    password = rows["smtp_password"]
    assert (password.value, password.text, password.info.editable) == (None, "", False)
    assert "FRONTDESK_SMTP_PASSWORD" in password.info.description


def stored(session: Session) -> dict[str, object]:
    return {row.key: row.value for row in session.exec(select(Setting))}


def test_saving_checks_as_the_cli_does_and_keeps_nothing_refused(session: Session) -> None:
    before = stored(session)
    with pytest.raises(ValidationFailed) as refused:
        save_business_setting(session=session, key="reminder_hours", value="abc", actor=ADMIN)
    assert refused.value.field == "reminder_hours"
    assert "whole number" in refused.value.message
    with pytest.raises(ValidationFailed):
        save_business_setting(session=session, key="smtp_security", value="ssl", actor=ADMIN)
    assert stored(session) == before
    saved = save_business_setting(
        session=session, key="auto_confirm_requests", value="yes", actor=ADMIN
    )
    assert (saved.value, saved.text) == (True, "yes")
    assert get_setting(session=session, key="auto_confirm_requests") is True


def test_currency_is_a_three_letter_code_and_the_name_plain_text(session: Session) -> None:
    """A currency is what every amount is shown in: EUR, usd (stored EUR, USD); "EURO" or
    markup like "[/]" are refused (they were stored and shown next to every amount)."""
    for typed in ("EURO", "[/]", "€", "E1R", "ÉUR", ""):
        with pytest.raises(ValidationFailed) as refused:
            save_business_setting(session=session, key="currency", value=typed, actor=ADMIN)
        assert refused.value.field == "currency"
    with pytest.raises(ValidationFailed, match="control"):
        save_business_setting(
            session=session, key="business_name", value="Salon\x1b[2J", actor=ADMIN
        )
    assert get_setting(session=session, key="currency") == DEFAULTS["currency"]
    saved = save_business_setting(session=session, key="currency", value=" usd ", actor=ADMIN)
    assert saved.value == "USD"
    saved = save_business_setting(
        session=session, key="business_name", value="[bold]Salon[/]", actor=ADMIN
    )
    assert saved.value == "[bold]Salon[/]"  # text, shown literally
    # Three letters that are no currency ("XYZ", a typo of EUR) are refused too.
    for typed in ("XYZ", "EUE", "xau"):
        with pytest.raises(ValidationFailed, match="is not a currency code"):
            save_business_setting(session=session, key="currency", value=typed, actor=ADMIN)
    for code in ("EUR", "GBP", "JPY", "CHF", "ZAR"):
        assert (
            save_business_setting(
                session=session, key="currency", value=code.lower(), actor=ADMIN
            ).value
            == code
        )


def test_secrets_cannot_be_set_here(session: Session) -> None:
    before = stored(session)
    with pytest.raises(ValidationFailed, match="never shown or stored here"):
        save_business_setting(session=session, key="smtp_password", value="hunter2", actor=ADMIN)
    assert stored(session) == before


@pytest.mark.parametrize("actor", [DESK, THERAPIST, None])
def test_only_admins_change_business_settings(session: Session, actor: object) -> None:
    with pytest.raises(NotAllowed):
        save_business_setting(
            session=session,
            key="reminder_hours",
            value="12",
            actor=actor,  # type: ignore[arg-type]
        )
    assert get_setting(session=session, key="reminder_hours") == 24


def test_a_change_is_in_the_audit_log_with_before_and_after(session: Session) -> None:
    save_business_setting(session=session, key="reminder_hours", value="12", actor=ADMIN)
    save_business_setting(session=session, key="reminder_hours", value="12", actor=ADMIN)
    save_business_setting(session=session, key="auto_confirm_requests", value="yes", actor=ADMIN)
    events = session.exec(select(AuditEvent).where(col(AuditEvent.entity) == "setting")).all()
    assert [e.changes for e in events] == [
        {"reminder_hours": [24, 12]},  # the same value again is no change
        {"auto_confirm_requests": [False, True]},
    ]
    assert all(e.actor_name == ADMIN.name for e in events)
    page = load_audit_page(session=session, viewer=ADMIN)
    assert [r.what for r in page.rows if r.entity == "setting"] == [
        "Setting auto_confirm_requests: no → yes",
        "Setting reminder_hours: 24 → 12",
    ]
