"""Item release slips (物品放行条, R-REL-1…8): who may get one, issuing and signing, the gate, the register and the
daily reconciliation. One module per concept; routes and pages call these with plain arguments and a session."""
