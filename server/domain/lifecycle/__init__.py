"""A unit's lifecycle at the estate: taken over from the developer and kept while vacant (空置房, R-VAC-1…6), then
handed to its owner at the move-in desk (入伙, R-MOVE)."""
