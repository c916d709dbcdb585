"""Circuit extraction (DESIGN §8 `extract`): pruning, transcoders, attribution graphs, feature labels."""
