"""Key cabinet: RS485 lock boards (XOR "485 lock board", Kerong KR-CU16), key tags, and a board simulator."""
