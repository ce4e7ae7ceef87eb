"""What the two touch-screen apps share: Kivy set-up, the CJK font, translation catalogues, the on-screen keypad,
and the on-screen text keyboard with pinyin input (its logic in `pinyin`, plain and tested without a display).

The kiosk (`kiosk/`) and the gate terminal (`gate/`) are separate apps on separate machines, but they draw with
the same toolkit for the same people; this package keeps one copy of what both need. It imports `devices/` (for
the font finder) and nothing of the server.
"""
