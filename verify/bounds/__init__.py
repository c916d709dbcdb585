"""Sound certification by bound propagation (issue 12): a lower bound on every output's logit
margin over every input, for domains too large to enumerate. `prove` is the entry point."""

from circ.verify.bounds.dependency import Dependency, full_dependency, structural_dependency
from circ.verify.bounds.prove import BoundsResult, Counterexample, OpenRegion, OutputProof, prove

__all__ = [
    "BoundsResult",
    "Counterexample",
    "Dependency",
    "OpenRegion",
    "OutputProof",
    "full_dependency",
    "prove",
    "structural_dependency",
]
