"""The gate (R-REL-6), one module per concept: `checking` a scanned code or typed number, `releases` (the one
release a slip allows, decided online or uploaded from offline, recorded by one function), `offline` (what a gate
uploads after working without the network), `conflicts` for the security captain, and the `revocations` an offline
gate must know. Single use is the database's job: `slip_releases.slip_id` is unique, so two gates at the same moment
give one release and one `already_released`, on SQLite and PostgreSQL alike."""
