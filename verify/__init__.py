"""`circ verify` (DESIGN §6): Z3 composition proofs over contracts, Hypothesis property tests of the
compiled program, and the circuits' catalog certificates, combined into one verdict."""
