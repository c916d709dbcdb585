"""circ: a small typed language whose primitives are learned neural circuits."""

__version__ = "0.1.0"
