"""All models, imported here so the metadata is complete for Alembic and for queries."""

from server.db.models.audit import AuditEntry
from server.db.models.registry import (
    ArrearsChange,
    Building,
    Estate,
    Occupancy,
    OccupancyKind,
    Person,
    ResidentCredential,
    Unit,
)
from server.db.models.staff import (
    ConsoleSession,
    Device,
    DeviceKind,
    LoginAttempt,
    Role,
    ServerSecret,
    StaffUser,
    staff_estates,
)

__all__ = [
    "ArrearsChange",
    "AuditEntry",
    "Building",
    "ConsoleSession",
    "Device",
    "DeviceKind",
    "Estate",
    "LoginAttempt",
    "Occupancy",
    "OccupancyKind",
    "Person",
    "ResidentCredential",
    "Role",
    "ServerSecret",
    "StaffUser",
    "Unit",
    "staff_estates",
]
