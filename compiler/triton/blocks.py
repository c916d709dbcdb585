"""The jit building blocks of every circ kernel, on a tile of R rows × PP positions flattened to
M = R·PP lines (row-major: line i is row i // PP, position i % PP).

Everything is a 2-D register tile, so all products are tl.dot (tensor cores on a GPU): attention
over the few positions of all R rows at once is one [M, M] score tile, masked to the row's own
block (and causally), which wastes R× on scores but keeps every op a dot. A fused circuit's last
layer runs only its read positions (QL lines a row, `Layout.query_lines`): queries, scores
[R·QL, M], the output projection, the MLP and the unembedding there; keys and values everywhere.
Weights come from a packed buffer (`layout`), already transposed and zero-padded; activations stay
fp32 (fp32 mode: IEEE dots, so results match torch to ~1e-6; bf16 mode: dot operands rounded to
bf16).

NATIVE: bf16 dots on tensor cores. The interpreter multiplies bf16 bit patterns instead of values
(triton-lang/triton#11584), so under TRITON_INTERPRET the operands are rounded to bf16 and then
multiplied as fp32: the same products, summed in another order.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def dot(a, b, BF16: tl.constexpr, NATIVE: tl.constexpr):
    if BF16:
        if NATIVE:
            out = tl.dot(a.to(tl.bfloat16), b.to(tl.bfloat16))
        else:
            out = tl.dot(
                a.to(tl.bfloat16).to(tl.float32), b.to(tl.bfloat16).to(tl.float32), input_precision="ieee"
            )
    else:
        out = tl.dot(a.to(tl.float32), b.to(tl.float32), input_precision="ieee")
    return out


@triton.jit
def matmul(x, w, K: tl.constexpr, N: tl.constexpr, BF16: tl.constexpr, NATIVE: tl.constexpr):
    """x [M, K] @ the packed [K, N] matrix at w → [M, N]."""
    k = tl.arange(0, K)
    n = tl.arange(0, N)
    return dot(x, tl.load(w + k[:, None] * N + n[None, :]), BF16, NATIVE)


@triton.jit
def vector(w, N: tl.constexpr):
    """A packed bias or norm vector as a [1, N] row."""
    return tl.load(w + tl.arange(0, N))[None, :].to(tl.float32)


@triton.jit
def norm(x, w, D: tl.constexpr, DP: tl.constexpr):
    """LayerNorm over the D real lanes (eps 1e-5, as nn.LayerNorm); padded lanes stay zero."""
    live = tl.arange(0, DP)[None, :] < D
    mean = tl.sum(x, 1)[:, None] / D
    centred = tl.where(live, x - mean, 0.0)
    var = tl.sum(centred * centred, 1)[:, None] / D
    return centred / tl.sqrt(var + 1e-5) * vector(w, DP) + vector(w + DP, DP)


@triton.jit
def embed(
    tok, w, EMBED: tl.constexpr, POS: tl.constexpr, M: tl.constexpr, PP: tl.constexpr, DP: tl.constexpr
):
    """tokens [M] → resid [M, DP]: token embedding + learned position embedding."""
    d = tl.arange(0, DP)[None, :]
    position = (tl.arange(0, M) % PP)[:, None]
    x = tl.load(w + EMBED + tok[:, None] * DP + d).to(tl.float32)
    return x + tl.load(w + POS + position * DP + d).to(tl.float32)


@triton.jit
def layer(
    x,
    w,
    M: tl.constexpr,
    PP: tl.constexpr,
    P: tl.constexpr,
    D: tl.constexpr,
    DP: tl.constexpr,
    MP: tl.constexpr,
    H: tl.constexpr,
    DH: tl.constexpr,
    SCALE: tl.constexpr,
    LN: tl.constexpr,
    CAUSAL: tl.constexpr,
    BF16: tl.constexpr,
    NATIVE: tl.constexpr,
    QL: tl.constexpr,
    Q0: tl.constexpr,
):
    """One transformer block (attention, then ReLU MLP, each with a residual) on resid [M, DP];
    `w` points at the layer's packed blocks (`layout.Layout.layer_parts` order). Keys and values
    come from every line; queries, the MLP and the result only from QL lines a row, positions
    Q0…Q0 + QL − 1 (QL = PP, Q0 = 0: every line). A last layer needs only the read positions."""
    wq = w + 2 * DP
    wo = wq + 3 * DP * DP
    ln2 = wq + 4 * DP * DP
    fc_in = ln2 + 2 * DP
    fc_out = fc_in + DP * MP + MP
    MQ: tl.constexpr = M // PP * QL
    h = x
    if LN:
        h = norm(x, w, D, DP)
    hq = h
    i, j = tl.arange(0, MQ)[:, None], tl.arange(0, M)[None, :]  # query lines, key lines
    if QL != PP:  # each query line's residual, picked by an exact one-hot dot (1·x + 0s)
        picked = ((j // PP) == (i // QL)) & ((j % PP) == Q0 + i % QL)
        x = tl.dot(picked.to(tl.float32), x, input_precision="ieee")
        hq = x
        if LN:
            hq = norm(x, w, D, DP)
    q = matmul(hq, wq, DP, DP, BF16, NATIVE)
    k = matmul(h, wq + DP * DP, DP, DP, BF16, NATIVE)
    v = matmul(h, wq + 2 * DP * DP, DP, DP, BF16, NATIVE)
    visible = ((j // PP) == (i // QL)) & ((j % PP) < P)
    if CAUSAL:
        visible = visible & ((j % PP) <= Q0 + i % QL)
    lane = tl.arange(0, DP)[None, :]
    z = tl.zeros([MQ, DP], dtype=tl.float32)
    for head in tl.static_range(H):
        mine = (lane >= head * DH) & (lane < head * DH + DH)
        scores = dot(tl.where(mine, q, 0.0), tl.trans(k), BF16, NATIVE) * SCALE
        scores = tl.where(visible, scores, float("-inf"))
        e = tl.exp(scores - tl.max(scores, 1)[:, None])
        z += dot(e / tl.sum(e, 1)[:, None], tl.where(mine, v, 0.0), BF16, NATIVE)
    x = x + matmul(z, wo, DP, DP, BF16, NATIVE)
    h = x
    if LN:
        h = norm(x, ln2, D, DP)
    a = tl.maximum(matmul(h, fc_in, DP, MP, BF16, NATIVE) + vector(fc_in + DP * MP, MP), 0.0)
    return x + matmul(a, fc_out, MP, DP, BF16, NATIVE) + vector(fc_out + MP * DP, DP)


@triton.jit
def unembed(
    x,
    w,
    FINAL: tl.constexpr,
    UNEMBED: tl.constexpr,
    D: tl.constexpr,
    DP: tl.constexpr,
    VO: tl.constexpr,
    VOP: tl.constexpr,
    LN: tl.constexpr,
    BF16: tl.constexpr,
    NATIVE: tl.constexpr,
):
    """resid [M, DP] → (logits [M, VOP] with -inf past VO, argmax token [M], -log p(argmax) [M])."""
    if LN:
        x = norm(x, w + FINAL, D, DP)
    logits = matmul(x, w + UNEMBED, DP, VOP, BF16, NATIVE)
    logits = tl.where(tl.arange(0, VOP)[None, :] < VO, logits, float("-inf"))
    best = tl.max(logits, 1)
    surprise = tl.log(tl.sum(tl.exp(logits - best[:, None]), 1))
    return logits, tl.argmax(logits, 1).to(tl.int32), surprise


@triton.jit
def circuit(
    w,
    tok,
    R: tl.constexpr,
    PP: tl.constexpr,
    P: tl.constexpr,
    N_IN: tl.constexpr,
    D: tl.constexpr,
    DP: tl.constexpr,
    MP: tl.constexpr,
    H: tl.constexpr,
    DH: tl.constexpr,
    SCALE: tl.constexpr,
    VO: tl.constexpr,
    VOP: tl.constexpr,
    L: tl.constexpr,
    LN: tl.constexpr,
    CAUSAL: tl.constexpr,
    EMBED: tl.constexpr,
    POS: tl.constexpr,
    LAYERS: tl.constexpr,
    LAYER_SIZE: tl.constexpr,
    FINAL: tl.constexpr,
    UNEMBED: tl.constexpr,
    BF16: tl.constexpr,
    NATIVE: tl.constexpr,
    QL: tl.constexpr,
):
    """A whole circuit on R rows: tokens [R·PP] → (argmax tokens [R, QL], output j in column j;
    confidence [R]), the confidence being the product over the outputs of p(argmax), as the torch
    backend has. The last layer runs QL query lines a row (`Layout.query_lines`), not PP."""
    M: tl.constexpr = R * PP
    x = embed(tok, w, EMBED, POS, M, PP, DP)
    for index in tl.static_range(L - 1):
        at = w + LAYERS + index * LAYER_SIZE
        x = layer(x, at, M, PP, P, D, DP, MP, H, DH, SCALE, LN, CAUSAL, BF16, NATIVE, PP, 0)
    at = w + LAYERS + (L - 1) * LAYER_SIZE  # the last layer at the read positions only
    x = layer(x, at, M, PP, P, D, DP, MP, H, DH, SCALE, LN, CAUSAL, BF16, NATIVE, QL, N_IN)
    _, out, surprise = unembed(x, w, FINAL, UNEMBED, D, DP, VO, VOP, LN, BF16, NATIVE)
    surprise = tl.where(tl.arange(0, R * QL) % QL < P - N_IN, surprise, 0.0)
    confidence = tl.exp(-tl.sum(tl.reshape(surprise, [R, QL]), 1))
    return tl.reshape(out, [R, QL]), confidence
