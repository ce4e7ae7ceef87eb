"""The key cabinet's agent (`estate cabinet`): watches the lock boards through `devices.cabinet` and reports every
door and key event to the server, keeping them in a local outbox while the server cannot be reached.

Like the kiosk and the gate it imports `devices/` and the server's contract only.
"""
