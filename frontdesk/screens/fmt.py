"""Display helpers shared by the screens."""

from __future__ import annotations

from datetime import date, datetime


def money(cents: int | None) -> str:
    if cents is None:
        return "—"
    return f"{cents / 100:,.2f}"


def local(dt: datetime) -> datetime:
    return dt.astimezone() if dt.tzinfo else dt


def when(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    return local(dt).strftime("%Y-%m-%d %H:%M")


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = local(value).date()
    return value.isoformat()


def count_label(count: int, cap: int, noun: str = "match") -> str:
    plural = noun + ("es" if noun.endswith("ch") else "s")
    if count > cap:
        return f"{cap:,}+ {plural}"
    return f"{count:,} {noun if count == 1 else plural}"
