"""From a profile: a copy of the customer's data (X), erasing them (ctrl+x, admins), and their
audit log (L, admins) — pressed as a person would."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import Label, Static

from frontdesk.data.models import Customer
from frontdesk.screens.audit import AuditScreen
from frontdesk.screens.common import ConfirmModal
from frontdesk.screens.profile import ProfileScreen
from tests.ui.conftest import SIZE, burst, make_app, settle, wait_until


def first_live(engine: Engine) -> Customer:
    with Session(engine) as s:
        c = s.exec(
            select(Customer)
            .where(col(Customer.deleted_at).is_(None), col(Customer.merged_into_id).is_(None))
            .order_by(col(Customer.sort_key))
        ).first()
        assert c is not None
        return c


async def test_admin_copies_then_erases_a_customer(demo_engine: Engine, tmp_path: Path) -> None:
    customer = first_live(demo_engine)
    app = make_app(demo_engine, staff="admin", data_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "/", customer.code, "down", "enter")
        assert isinstance(app.screen, ProfileScreen)
        await burst(pilot, "X")
        await wait_until(pilot, lambda: bool(list((tmp_path / "exports").glob("*.json"))))
        files = list((tmp_path / "exports").glob(f"{customer.code}-data-*.json"))
        assert len(files) == 1 and stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
        assert json.loads(files[0].read_text())["customer"]["code"] == customer.code
        # Erase: the question names the customer; y erases.
        await burst(pilot, "ctrl+x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        question = str(app.screen.query_one("#question", Label).render())
        assert customer.code in question and customer.first_name in question
        assert "cannot be undone" in question
        await burst(pilot, "y")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, ProfileScreen)
                and "Erased customer" in str(app.screen.query_one("#p-name", Static).render())
            ),
        )
        banner = str(app.screen.query_one("#p-banner", Static).render())
        assert banner.startswith("ERASED customer")
        await burst(pilot, "u")  # nothing to restore: the key does nothing
        assert "ERASED" in str(app.screen.query_one("#p-banner", Static).render())
    with Session(demo_engine) as s:
        gone = s.exec(select(Customer).where(col(Customer.code) == customer.code)).one()
        assert gone.erased_at is not None and gone.email is None and gone.phone is None


async def test_reception_copies_but_never_erases(demo_engine: Engine, tmp_path: Path) -> None:
    customer = first_live(demo_engine)
    app = make_app(demo_engine, staff="rita", data_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "/", customer.code, "down", "enter")
        assert isinstance(app.screen, ProfileScreen)
        await burst(pilot, "ctrl+x", "L")
        assert isinstance(app.screen, ProfileScreen)  # neither the question nor the log
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Erase this customer" not in titles and "Audit log of this customer" not in titles
        assert "Copy of this customer's data" in titles
    with Session(demo_engine) as s:
        assert (
            s.exec(select(Customer).where(col(Customer.code) == customer.code)).one().erased_at
            is None
        )


async def test_the_profile_opens_its_customers_audit_log(demo_engine: Engine) -> None:
    customer = first_live(demo_engine)
    app = make_app(demo_engine, staff="admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(
            pilot, "/", customer.code, "down", "enter", "e", "tab", "tab", "Audit Me", "ctrl+s"
        )
        assert isinstance(app.screen, ProfileScreen)
        await burst(pilot, "L")
        assert isinstance(app.screen, AuditScreen)
        assert customer.code in str(app.screen.title)
        await wait_until(
            pilot, lambda: "1 shown" in str(app.screen.query_one("#au-count", Static).render())
        )
