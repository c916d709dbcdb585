"""The explicit bounds on what one program may ask for, each ending in one located error rather than a
hang, a memory blow-up or a RecursionError. Every value is far beyond what the programs circ is for
need (the stdlib's widest value is a Grid[5, 5]; its deepest nesting is under 10)."""

from __future__ import annotations

MAX_SOURCE_CHARS = 512_000  # one .circ file (the parser runs at ~50 KB/s: ~10 s)
MAX_NESTING = 150  # levels of the parse tree: expressions, types, contracts, calls inside calls
MAX_IMPORT_DEPTH = 100  # a chain of `use`s
MAX_ALIAS_DEPTH = 100  # a chain of `type` aliases
MAX_LEAVES = 1 << 16  # scalars in one value (a Seq[Color, 65536] or a Grid[256, 256])
MAX_FORALL = 1_024  # values one `forall` ranges over (unrolled for Z3 and the evaluators: 0..2000 took 44 s)
MAX_GRAPH_NODES = 250_000  # nodes of a lowered program, every call unrolled (10⁵ calls: 6 s, 0.5 GB)
INT64 = (-(2**63), 2**63 - 1)  # integers circ computes with: literals and Int[lo, hi] bounds
