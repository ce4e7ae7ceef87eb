"""What each staff role may do. Routes and pages check a permission, never a role name."""

from __future__ import annotations

import enum

from server.db.models import Role


class Perm(enum.StrEnum):
    registry_view = "registry.view"
    registry_edit = "registry.edit"
    registry_import = "registry.import"
    arrears_edit = "arrears.edit"
    staff_manage = "staff.manage"
    devices_manage = "devices.manage"
    audit_view = "audit.view"


_ALL = frozenset(Perm)
_VIEW = frozenset({Perm.registry_view})

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.admin: _ALL,
    Role.general_manager: _VIEW | {Perm.audit_view},
    Role.cs_manager: _VIEW | {Perm.registry_edit, Perm.registry_import, Perm.devices_manage, Perm.audit_view},
    Role.records_admin: _VIEW | {Perm.registry_edit, Perm.registry_import},
    Role.front_desk: _VIEW,
    Role.security_captain: _VIEW,
    Role.gate_guard: frozenset(),
    Role.engineering: _VIEW,
    Role.environment: _VIEW,
    # Finance sets arrears balances, which R-REL-5 reads before a tenant's slip is issued.
    Role.finance: _VIEW | {Perm.arrears_edit},
}


def allowed(role: Role, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS[role]
