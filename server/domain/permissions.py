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
    slips_view = "slips.view"
    slips_issue = "slips.issue"
    slips_catalogue = "slips.catalogue"
    slips_conflicts = "slips.conflicts"
    reconcile_security = "slips.reconcile_security"
    reconcile_records = "slips.reconcile_records"


_ALL = frozenset(Perm)
_VIEW = frozenset({Perm.registry_view})
# R-REL-4/7/8: the CS centre writes and files slips; security checks releases and reconciles with the CS admin.
_SLIPS = frozenset({Perm.slips_view, Perm.slips_issue})

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.admin: _ALL,
    Role.general_manager: _VIEW | {Perm.audit_view, Perm.slips_view},
    Role.cs_manager: _VIEW
    | _SLIPS
    | {Perm.registry_edit, Perm.registry_import, Perm.devices_manage, Perm.audit_view, Perm.slips_catalogue},
    Role.records_admin: _VIEW
    | _SLIPS
    | {Perm.registry_edit, Perm.registry_import, Perm.slips_catalogue, Perm.reconcile_records},
    Role.front_desk: _VIEW | _SLIPS,
    Role.security_captain: _VIEW | {Perm.slips_view, Perm.slips_conflicts, Perm.reconcile_security},
    Role.gate_guard: frozenset(),
    Role.engineering: _VIEW,
    Role.environment: _VIEW,
    # Finance sets arrears balances, which R-REL-5 reads before a tenant's slip is issued.
    Role.finance: _VIEW | {Perm.arrears_edit},
}


def allowed(role: Role, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS[role]
