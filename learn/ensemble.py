"""N same-shape circuit transformers as one vmap ensemble.

Parameters of all members are stacked along a new leading axis (`torch.func.stack_module_state`) and
one `functional_call` is vmapped over that axis, so N small models cost one set of (batched) kernel
launches instead of N. Each member still sees only its own data and its own gradients: the training
loss is the *sum* of the members' losses, and AdamW is elementwise, so a stacked AdamW step equals N
separate ones (tests/learn check this to 1e-5).
"""

from __future__ import annotations

import torch
from torch.func import functional_call, stack_module_state, vmap

from circ.circuit.config import ModelConfig
from circ.learn.model import CircuitTransformer


class Ensemble:
    def __init__(self, cfg: ModelConfig, params: dict[str, torch.Tensor]) -> None:
        """`params`: name → stacked tensor `[N, …]` (leaves that require grad)."""
        self.cfg = cfg
        self.params = params
        self._base = CircuitTransformer(cfg).to("meta")  # structure only; weights come from `params`

    @classmethod
    def stack(cls, models: list[CircuitTransformer]) -> Ensemble:
        params, _ = stack_module_state(models)  # the models have no buffers
        return cls(models[0].cfg, params)

    def __len__(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def _one(self, params: dict[str, torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
        # "math" attention: vmap has no CPU batching rule for SDPA and would loop over members.
        return functional_call(self._base, params, (tokens,), {"attn_impl": "math"})

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [N, batch, n_positions] (member i's data in row i) → logits [N, batch, n_out, out_vocab]."""
        return vmap(self._one)(self.params, tokens)

    def member(self, i: int) -> dict[str, torch.Tensor]:
        """Member i's weights, as a state dict for `CircuitTransformer`."""
        return {k: v[i].detach().clone() for k, v in self.params.items()}

    @torch.no_grad()
    def weight_norms(self) -> torch.Tensor:
        """L2 norm of each member's parameters, `[N]` (the grokking papers' weight-norm curve)."""
        sq = sum(v.detach().flatten(1).pow(2).sum(1) for v in self.params.values())
        return torch.as_tensor(sq).sqrt()

    def select(self, keep: torch.Tensor) -> Ensemble:
        """A new ensemble of the members at `keep` (fresh leaves, same values)."""
        params = {k: v.detach()[keep].clone().requires_grad_() for k, v in self.params.items()}
        return Ensemble(self.cfg, params)
