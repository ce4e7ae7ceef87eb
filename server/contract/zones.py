"""The zone an estate's days are counted in when nothing else is known: the server's default for new estates
(ESTATE_TIMEZONE's default), and the kiosk's and gate's until the server tells them their estate's own."""

DEFAULT_ZONE = "Asia/Shanghai"
