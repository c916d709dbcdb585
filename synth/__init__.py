"""`circ synth` (DESIGN §10): programs composed from the catalog's circuits to fit a spec's examples
and contract — type-directed bottom-up enumeration, pruned by observational equivalence on the
learned circuits, each survivor judged by the contract evaluator and `circ verify`; an optional LLM
proposer (`llm`) and library learning (`library`)."""
