"""What a bulk action did, shared by the directory's bulk actions and the delete flow."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BulkOutcome:
    changed_ids: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = f"Updated {len(self.changed_ids):,} customers"
        if self.problems:
            text += f"; {len(self.problems):,} could not be changed"
        return text
