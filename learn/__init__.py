"""Learning circuits: algorithmic task data, the circuit transformer, and (ensemble) training."""
