"""Triton code for circuit transformers: the packed weight layout, the jit building blocks (embed,
layer, unembed+argmax), per-layer kernels, and the generator of one fused kernel per planned chain.

`layout` and `codegen` are plain Python (so `circ compile --emit kernels` needs neither triton nor a
GPU); `blocks`, `layer_kernels` and `build` import triton."""
