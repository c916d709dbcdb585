"""One launch per transformer layer (and one for unembed + argmax + confidence): the building
blocks on their own, for circuits run unfused (`TritonBackend(fuse=False)`) and for testing each
block against the torch model's hooks. The residual stream goes through memory between launches
as [rows, PP, DP] (fp32, or bf16 in bf16 mode)."""

from __future__ import annotations

import triton
import triton.language as tl

from circ.compiler.triton.blocks import embed, layer, unembed


@triton.jit
def _lines(R: tl.constexpr, PP: tl.constexpr, DP: tl.constexpr, rows):
    """This program's tile: resid offsets [M, DP] and which lines are real rows."""
    M: tl.constexpr = R * PP
    i = tl.arange(0, M)
    row = tl.program_id(0) * R + i // PP
    offsets = (row * PP + i % PP)[:, None] * DP + tl.arange(0, DP)[None, :]
    return offsets, (row < rows)[:, None]


@triton.jit
def embed_layer_kernel(
    tokens, w, resid, rows,
    R: tl.constexpr, PP: tl.constexpr, P: tl.constexpr, D: tl.constexpr, DP: tl.constexpr, MP: tl.constexpr,
    H: tl.constexpr, DH: tl.constexpr, SCALE: tl.constexpr, LN: tl.constexpr, CAUSAL: tl.constexpr,
    EMBED: tl.constexpr, POS: tl.constexpr, LAYERS: tl.constexpr, BF16: tl.constexpr, NATIVE: tl.constexpr,
):  # fmt: skip
    """tokens [rows, P] → resid after layer 0: the gather (decoding the previous circuit's tokens
    happened when the host laid out `tokens`) fused with the first layer."""
    M: tl.constexpr = R * PP
    i = tl.arange(0, M)
    row = tl.program_id(0) * R + i // PP
    position = i % PP
    tok = tl.load(tokens + row * P + position, mask=(row < rows) & (position < P), other=0)
    x = embed(tok, w, EMBED, POS, M, PP, DP)
    x = layer(x, w + LAYERS, M, PP, P, D, DP, MP, H, DH, SCALE, LN, CAUSAL, BF16, NATIVE, PP, 0)
    offsets, live = _lines(R, PP, DP, rows)
    tl.store(resid + offsets, x.to(resid.dtype.element_ty), mask=live)


@triton.jit
def layer_kernel(
    resid_in, w, resid_out, rows,
    R: tl.constexpr, PP: tl.constexpr, P: tl.constexpr, D: tl.constexpr, DP: tl.constexpr, MP: tl.constexpr,
    H: tl.constexpr, DH: tl.constexpr, SCALE: tl.constexpr, LN: tl.constexpr, CAUSAL: tl.constexpr,
    BF16: tl.constexpr, NATIVE: tl.constexpr,
):  # fmt: skip
    """resid → resid after one more layer (`w` points at that layer's packed blocks)."""
    offsets, live = _lines(R, PP, DP, rows)
    x = tl.load(resid_in + offsets, mask=live, other=0.0).to(tl.float32)
    x = layer(x, w, R * PP, PP, P, D, DP, MP, H, DH, SCALE, LN, CAUSAL, BF16, NATIVE, PP, 0)
    tl.store(resid_out + offsets, x.to(resid_out.dtype.element_ty), mask=live)


@triton.jit
def unembed_kernel(
    resid, w, tokens, confidence, logits_out, rows,
    R: tl.constexpr, PP: tl.constexpr, P: tl.constexpr, N_IN: tl.constexpr, D: tl.constexpr,
    DP: tl.constexpr, VO: tl.constexpr, VOP: tl.constexpr, LN: tl.constexpr, FINAL: tl.constexpr,
    UNEMBED: tl.constexpr, STORE_LOGITS: tl.constexpr, BF16: tl.constexpr, NATIVE: tl.constexpr,
):  # fmt: skip
    """resid → output tokens [rows, P - N_IN], confidence [rows] (and logits [rows, P - N_IN, VO])."""
    M: tl.constexpr = R * PP
    N_OUT: tl.constexpr = P - N_IN
    offsets, live = _lines(R, PP, DP, rows)
    x = tl.load(resid + offsets, mask=live, other=0.0).to(tl.float32)
    logits, out, surprise = unembed(x, w, FINAL, UNEMBED, D, DP, VO, VOP, LN, BF16, NATIVE)
    i = tl.arange(0, M)
    row = tl.program_id(0) * R + i // PP
    slot = i % PP - N_IN  # which output token this line predicts
    read = (row < rows) & (slot >= 0) & (slot < N_OUT)
    tl.store(tokens + row * N_OUT + slot, out, mask=read)
    sure = tl.exp(-tl.sum(tl.reshape(tl.where(read, surprise, 0.0), [R, PP]), 1))
    first = tl.program_id(0) * R + tl.arange(0, R)
    tl.store(confidence + first, sure, mask=first < rows)
    if STORE_LOGITS:
        v = tl.arange(0, VOP)[None, :]
        target = logits_out + (row * N_OUT + slot)[:, None] * VO + v
        tl.store(target, logits, mask=read[:, None] & (v < VO))
