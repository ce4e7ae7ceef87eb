"""The server's own commands (`estate serve`, `estate db …`, `estate keys …` …), mounted by the `estate` command."""
