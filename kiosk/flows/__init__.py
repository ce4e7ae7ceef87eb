"""The kiosk's flows as plain state machines: no Kivy here, so tests drive them without a display."""
