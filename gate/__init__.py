"""The guards' gate terminal: scan a release slip, count the items, release or refuse, and keep working offline.

`gate.flows` holds the plain state machines (tested without a display), `gate.ui` draws them with Kivy,
`gate.link` talks to the server and falls back to the offline check in `gate.verifier`, and the outbox
(`terminal.outbox`, opened and repaired by `gate.storage`) keeps what the gate did until the server has it.
"""
