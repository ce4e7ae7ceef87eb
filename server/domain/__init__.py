"""Domain rules. Functions take plain arguments and a session; routes and pages only call them."""
