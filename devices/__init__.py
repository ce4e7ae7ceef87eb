"""Hardware, and nothing else: printers, cameras, QR decoding, key-cabinet boards and their emulators.

This package imports nothing else of estate-desk, so a field technician can use it on its own.
"""
