"""`python -m server.cli` is the `estate` command."""

from server.cli.main import main

main()
