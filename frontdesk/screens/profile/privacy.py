"""A customer's rights, from their profile: a copy of everything stored (access request),
erasure (admins), and the audit log of this customer (admins).

Keys on the profile: ``L`` this customer's audit log, ``X`` a copy of their data (written to a
private file in the data directory), ``ctrl+x`` erase (asks first, naming the customer).
The same are in the command palette while a profile is open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from sqlmodel import Session

from frontdesk.data.privacy import (
    ErasePreview,
    erase_customer,
    erase_preview,
    save_customer_data,
)
from frontdesk.text import user_text


class PrivacyActions:
    """Mixed into the profile screen (which provides ``fd``, ``run_read``, ``run_task``)."""

    customer_header: Any

    def _code(self) -> str | None:
        header = getattr(self, "customer_header", None)
        return header.customer.code if header is not None else None

    def action_customer_audit(self) -> None:
        screen: Any = self
        code = self._code()
        if code is not None:
            screen.fd.action_audit(code)

    def action_export_data(self) -> None:
        screen: Any = self
        code = self._code()
        if code is None or screen.fd.refuse("export"):
            return
        actor = screen.fd.operator
        folder = screen.fd.data_dir
        if folder is None:
            from frontdesk import config

            folder = config.data_dir()

        def write(session: Session) -> Path:
            return save_customer_data(session=session, code=code, actor=actor, folder=Path(folder))

        def written(path: Path) -> None:
            screen.notify(
                f"Everything stored about {code} is in {path} (private to you)",
                title="Access request",
                timeout=12,
                markup=False,
            )

        screen.run_read(write, then=written, group="privacy-export")

    def action_erase(self) -> None:
        screen: Any = self
        code = self._code()
        if code is None or screen.fd.refuse("erase"):
            return
        actor = screen.fd.operator

        def ask(preview: ErasePreview) -> None:
            from frontdesk.screens.common import ConfirmModal

            question = Text.assemble(
                "Erase ",
                (preview.code, "bold"),
                " ",
                user_text(preview.name, "bold"),
                " for good? Their name, contacts, address, birth dates, photo, notes and "
                f"custom values go ({preview.merged_records} merged record(s) too); "
                f"{preview.bookings} booking(s) and {preview.orders} order(s) stay for the "
                "accounts. This cannot be undone.",
            )

            def answered(yes: bool | None) -> None:
                if yes:
                    self._erase(preview.code)

            screen.app.push_screen(ConfirmModal(question, yes="Erase"), answered)

        screen.run_read(
            lambda s: erase_preview(session=s, code=code, actor=actor),
            then=ask,
            group="privacy-erase",
        )

    def _erase(self, code: str) -> None:
        screen: Any = self
        engine, actor, folder = screen.fd.engine, screen.fd.operator, screen.fd.data_dir
        if folder is None:
            from frontdesk import config

            folder = config.data_dir()

        def done(result: Any) -> None:
            screen.notify(
                f"Erased {result.code}: the bookings and orders stay for the accounts",
                title="Erased",
                markup=False,
            )
            screen.reload_after_change("all")

        screen.run_task(
            lambda: erase_customer(engine=engine, code=code, actor=actor, data_dir=folder),
            then=done,
            group="privacy-erase-run",
        )
