"""N LoRA adapters on one frozen parent circuit, trained together as one vmap ensemble.

peft's `get_peft_model` injects a `LoraLayer` into each targeted module of a copy of the parent. By
default (`DEFAULT_TARGETS`) those are the projections (the attention's q, k, v, o and the MLP's
fc_in, fc_out) and the position embedding; the token embedding and unembedding may be added
(`targets`). The position embedding is in the default because the arguments share one token
embedding, so only it can make a child treat them differently: on the cleaned-up mod97.add, add →
sub never became exact with the projections alone (71.5% at best after 4,000 steps); with the
positions too, 3 seeds of 3 did, in 450–1,675 steps (benchmarks/RESULTS.md).

The adapters of all seeds are stacked along a leading axis and one `functional_call` of the peft-
wrapped model is vmapped over it, with the frozen base weights shared (not copied) by every member:
peft's LoRA forward is plain tensor code, so vmap batches it like the base model's
(tests/learn/adapt check a member against its own unbatched forward).

Each member's adapter starts as peft initialises it under that member's seed (one factor random,
the other zero: B of a projection, A of an embedding), so every member starts as the parent
exactly. `member(i)` merges adapter i into the weights (`merge_and_unload`): a plain
`CircuitTransformer` state dict, what the catalog runs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.func import functional_call, vmap

from circ.lang.errors import ConfigError
from circ.learn.model import CircuitTransformer

# The circuit's modules LoRA can adapt, by name (learn/model.py): the projections (attention q, k, v,
# o and the MLP), then the token and position embeddings and the unembedding.
PROJECTIONS = ("q", "k", "v", "o", "fc_in", "fc_out")
EMBEDDINGS = ("embed", "pos_embed", "unembed")
TARGETS = PROJECTIONS + EMBEDDINGS
DEFAULT_TARGETS = (*PROJECTIONS, "pos_embed")
ADAPTER = "default"  # peft's adapter name; one adapter per model here


@dataclass(frozen=True)
class LoraOptions:
    rank: int = 8
    alpha: float | None = None  # LoRA scale alpha / rank; None: alpha = rank (scale 1)
    targets: tuple[str, ...] = DEFAULT_TARGETS

    def __post_init__(self) -> None:
        if isinstance(self.rank, bool) or not isinstance(self.rank, int) or self.rank < 1:
            raise ConfigError("rank", f"must be a positive integer, got {self.rank!r}")
        if self.alpha is not None and not (isinstance(self.alpha, int | float) and self.alpha > 0):
            raise ConfigError("alpha", f"must be a positive number, got {self.alpha!r}")
        unknown = sorted(set(self.targets) - set(TARGETS))
        if unknown or not self.targets:
            raise ConfigError("targets", f"must be some of {', '.join(TARGETS)}, got {list(self.targets)}")

    def peft_config(self) -> Any:
        """peft's `LoraConfig` for these options (no dropout: the data is exact, not noisy)."""
        from peft import LoraConfig

        alpha = self.rank if self.alpha is None else self.alpha
        return LoraConfig(r=self.rank, lora_alpha=alpha, target_modules=list(self.targets), lora_dropout=0.0)


def peft_config_json(config: Any) -> str:
    """A `LoraConfig` as JSON (peft's `adapter_config.json` fields; sets become sorted lists)."""

    def plain(value: object) -> object:
        if isinstance(value, set | frozenset):
            return sorted(value)
        return str(value)

    return json.dumps(config.to_dict(), sort_keys=True, default=plain)


def _wrap(parent: CircuitTransformer, options: LoraOptions, seed: int) -> Any:
    """A peft model around a copy of `parent`, its adapter initialised by peft under `seed`."""
    from peft import get_peft_model

    with torch.random.fork_rng(devices=[]):  # peft draws A from the global RNG; keep the caller's
        torch.manual_seed(seed)
        return get_peft_model(copy.deepcopy(parent).cpu(), options.peft_config())


class AdapterEnsemble:
    """Stacked LoRA adapters `[N, …]` over one frozen parent; see the module docstring."""

    def __init__(self, parent: CircuitTransformer, options: LoraOptions, seeds: Sequence[int]) -> None:
        if not seeds:
            raise ConfigError("seeds", "give at least one seed")
        self.cfg, self.options = parent.cfg, options
        device = next(parent.parameters()).device
        members = [_wrap(parent, options, s) for s in seeds]
        self.peft = members[0]  # the structure every member shares; its adapter weights are overwritten
        inner = self.peft.base_model.model
        self.base = {n: p.detach().to(device) for n, p in inner.named_parameters() if not p.requires_grad}
        names = [n for n, p in inner.named_parameters() if p.requires_grad]
        trained = [dict(m.base_model.model.named_parameters()) for m in members]
        self.params = {
            n: torch.stack([t[n].detach() for t in trained]).to(device).requires_grad_() for n in names
        }

    def __len__(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def _one(self, adapter: dict[str, torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
        # "math" attention: vmap has no CPU batching rule for SDPA (as in learn.ensemble)
        inner = self.peft.base_model.model
        return functional_call(inner, {**adapter, **self.base}, (tokens,), {"attn_impl": "math"})

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens [N, batch, n_positions] → logits [N, batch, n_out, out_vocab]."""
        return vmap(self._one)(self.params, tokens)

    def select(self, keep: torch.Tensor) -> AdapterEnsemble:
        """The members at `keep` (fresh leaves, same values; base and structure shared)."""
        out = copy.copy(self)
        out.params = {k: v.detach()[keep].clone().requires_grad_() for k, v in self.params.items()}
        return out

    @torch.no_grad()
    def weight_norms(self) -> torch.Tensor:
        """L2 norm of each member's adapter weights, `[N]`."""
        sq = sum(v.detach().flatten(1).pow(2).sum(1) for v in self.params.values())
        return torch.as_tensor(sq).sqrt()

    def leaves(self, i: int) -> dict[str, torch.Tensor]:
        """Member i's adapter weights as trained (the inner model's names), on the CPU."""
        return {k: v[i].detach().cpu().clone() for k, v in self.params.items()}

    def _loaded(self, leaves: dict[str, torch.Tensor]) -> Any:
        """A copy of the peft model holding the adapter `leaves`."""
        model = copy.deepcopy(self.peft).cpu()
        with torch.no_grad():
            for name, p in model.base_model.model.named_parameters():
                if name in leaves:
                    p.copy_(leaves[name])
        return model

    def member(self, i: int) -> dict[str, torch.Tensor]:
        """Adapter i merged into the parent: a `CircuitTransformer` state dict (what is catalogued)."""
        merged = self._loaded(self.leaves(i)).merge_and_unload()
        return {k: v.detach().clone() for k, v in merged.state_dict().items()}

    def adapter(self, leaves: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """An adapter in peft's state-dict naming (`base_model.model.….lora_A.weight`), as peft's
        `save_pretrained` writes it and `set_peft_model_state_dict` reads it."""
        from peft import get_peft_model_state_dict

        state = get_peft_model_state_dict(self._loaded(leaves))
        return {k: v.detach().clone().contiguous() for k, v in state.items()}
