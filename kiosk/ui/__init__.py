"""The kiosk's Kivy layer: draws the flow's state and forwards touches. Import only after `terminal.kivy_setup`."""
