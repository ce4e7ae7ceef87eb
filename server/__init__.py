"""The estate's system of record: database, domain rules, HTTP API, web admin console and CLI."""
