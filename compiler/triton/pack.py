"""A model's weights → its slice of a packed buffer (see `layout`): transposed to [in, out] and
zero-padded, in fp32 or bf16."""

from __future__ import annotations

import torch

from circ.compiler.triton.layout import Layout


def pack(model: torch.nn.Module, layout: Layout, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    state = {name: p.detach().float().cpu() for name, p in model.state_dict().items()}
    blocks = [
        _pad(state["embed.weight"], layout.vp, layout.dp),
        _pad(state["pos_embed.weight"], layout.pp, layout.dp),
    ]
    for layer in range(layout.cfg.n_layers):
        for suffix, size in layout.layer_parts():
            name = f"blocks.{layer}.{suffix}"
            if name not in state:  # no LayerNorm: its slots stay zero
                blocks.append(torch.zeros(size))
            elif suffix.endswith("bias") or suffix.startswith("ln"):
                blocks.append(_pad(state[name][None], 1, size))
            else:  # nn.Linear stores [out, in]; kernels multiply x [M, in] by [in, out]
                weight = state[name].T
                width = layout.mp if suffix == "mlp.fc_in.weight" else layout.dp
                blocks.append(_pad(weight, size // width, width))
    for suffix in ("weight", "bias"):
        final = state.get(f"ln_final.{suffix}", torch.zeros(0))
        blocks.append(_pad(final[None], 1, layout.dp))
    blocks.append(_pad(state["unembed.weight"].T, layout.dp, layout.vop))
    flat = torch.cat([b.reshape(-1) for b in blocks])
    assert flat.numel() == layout.size, "pack and layout disagree"
    return flat.to(dtype)


def _pad(t: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    out = torch.zeros(rows, cols)
    out[: t.shape[0], : t.shape[1]] = t
    return out
