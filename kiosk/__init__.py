"""The residents' lobby kiosk: identify, ask for an item release slip, print it; see one's own requests.

Flows (`kiosk.flows`) are plain state machines with an injected clock, server API and printer; the Kivy layer
(`kiosk.ui`) only draws their state and forwards touches. The kiosk talks to the server through its contract
(`server.contract`) and prints with `devices.printing`; it never imports the server's database or domain.
"""
