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
    keys_view = "keys.view"
    keys_manage = "keys.manage"  # the register: intakes, tests, sets, slots (R-KEY-1…4, 7)
    keys_lend = "keys.lend"  # the key loan register (R-KEY-12)
    keys_approve_duplication = "keys.approve_duplication"  # the general manager's alone (R-KEY-11)


_ALL = frozenset(Perm) - {Perm.keys_approve_duplication}
_VIEW = frozenset({Perm.registry_view})
# R-KEY-1…14: the CS admin keeps the keys; the desk and engineering register loans.
_KEYS = frozenset({Perm.keys_view, Perm.keys_manage, Perm.keys_lend})
_LEND = frozenset({Perm.keys_view, Perm.keys_lend})
# R-REL-4/7/8: the CS centre writes and files slips; security checks releases and reconciles with the CS admin.
_SLIPS = frozenset({Perm.slips_view, Perm.slips_issue})

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.admin: _ALL,  # everything but the general manager's approval of a key duplication (R-KEY-11)
    Role.general_manager: _VIEW | {Perm.audit_view, Perm.slips_view, Perm.keys_view, Perm.keys_approve_duplication},
    Role.cs_manager: _VIEW
    | _SLIPS
    | _KEYS
    | {Perm.registry_edit, Perm.registry_import, Perm.devices_manage, Perm.audit_view, Perm.slips_catalogue},
    Role.records_admin: _VIEW
    | _SLIPS
    | _KEYS
    | {Perm.registry_edit, Perm.registry_import, Perm.slips_catalogue, Perm.reconcile_records},
    Role.front_desk: _VIEW | _SLIPS | _LEND,
    Role.security_captain: _VIEW | {Perm.slips_view, Perm.slips_conflicts, Perm.reconcile_security},
    Role.gate_guard: frozenset(),
    Role.engineering: _VIEW | _LEND,
    Role.environment: _VIEW,
    # Finance sets arrears balances, which R-REL-5 reads before a tenant's slip is issued.
    Role.finance: _VIEW | {Perm.arrears_edit},
}


def allowed(role: Role, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS[role]
