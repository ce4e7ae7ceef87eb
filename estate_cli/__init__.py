"""The umbrella `estate` command: one sub-command per program of the system (server, kiosk, gate, cabinet agent,
device diagnostics) and `estate demo`, which runs them together."""
