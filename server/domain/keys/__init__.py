"""Key management (钥匙管理, DOMAIN.md R-KEY-1…14): the register of key sets and keys with their tags and home
slots, intakes from contractors with their tests, the cabinet's slot layout, loans in the key loan register, and
the cabinet's key events that start and end them."""
