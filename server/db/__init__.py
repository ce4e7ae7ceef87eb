"""Persistence: engine, typed models and migrations. No domain rules live here."""
