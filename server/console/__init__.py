"""The web admin console: server-rendered pages (Jinja2 + HTMX), Chinese first, English available."""
