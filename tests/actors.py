"""Staff members for tests that call the services directly (the services check roles).

They are not in any database: the services only read their role, id and name.
"""

from __future__ import annotations

from frontdesk.data.models import Staff

ADMIN = Staff(name="Test admin", role="admin")
DESK = Staff(name="Test desk", role="reception")
THERAPIST = Staff(name="Test therapist", role="therapist")
