"""What a bulk action did, shared by the directory's bulk actions and the delete flow."""

from __future__ import annotations

from dataclasses import dataclass, field


def counted(count: int, noun: str) -> str:
    """``1 customer``, ``2,000 customers``: a count with its noun (regular plurals)."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


@dataclass
class BulkOutcome:
    changed_ids: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = f"Updated {counted(len(self.changed_ids), 'customer')}"
        if self.problems:
            text += f"; {len(self.problems):,} could not be changed"
        return text
