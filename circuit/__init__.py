"""The circuit ABI (DESIGN §3): what a learned circuit is to the rest of circ, without torch.

`interface` (how a signature becomes tokens: layout, query token, read positions), `signature` (the
one way a circuit's type is written), `config` (`ModelConfig`, the shapes of a circuit transformer),
`weights` (the safetensors format and a metadata reader), `provider` (where runtimes get circuits).
learn, compiler and runtime import this package rather than each other.
"""
