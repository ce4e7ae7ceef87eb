"""The gate's flows as plain state machines: guard sign-in, the verdict on a scan, the item checklist, manual
entry. Screens draw them and forward touches; tests drive them without a display."""
