"""`python -m estate_cli` is the `estate` command."""

from estate_cli.main import main

main()
