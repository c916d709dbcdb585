"""Task families: reference functions on hand-computed cases, domains, splits, composition, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from circ.circuit.interface import encoding
from circ.lang.errors import ConfigError
from circ.lang.layout import contains, flatten, unflatten
from circ.learn.data import compose, families, get_task, make_split, random_chain
from circ.learn.data.domain import enumerate_inputs, sample_inputs
from circ.learn.data.syntax import sample_lines
from circ.learn.data.tokens import decode_outputs, encode_inputs, encode_outputs
from circ.learn.errors import UnknownTaskError


def apply(name: str, *args: Any, **params: int) -> Any:
    """Run a task's vectorised reference on one Python value per argument."""
    task = get_task(name, **params)
    arrays = [np.array([flatten(t, a)], dtype=np.int64) for t, a in zip(task.arg_types, args, strict=True)]
    return unflatten(task.out_type, task(*arrays)[0].tolist())


G = [[1, 2, 3], [4, 5, 6]]  # a 2×3 grid: orientation mistakes show up as wrong shapes or orders

CASES = [
    ("mod_add", (5, 4), {"p": 7}, 2),
    ("mod_sub", (2, 5), {"p": 7}, 4),
    ("mod_mul", (3, 5), {"p": 7}, 1),
    ("mod_div", (3, 5), {"p": 7}, 2),  # 5⁻¹ = 3 (5·3 = 15 ≡ 1), 3·3 = 9 ≡ 2
    ("mod_div", (1, 96), {"p": 97}, 96),
    ("mod_square_sum", (3, 4), {"p": 7}, 4),  # 9 + 16 = 25 ≡ 4
    ("mod_quad", (2, 3), {"p": 7}, 5),  # 4 + 6 + 9 = 19 ≡ 5
    ("mod_cubic", (2, 3), {"p": 7}, 0),  # 8 + 6 = 14 ≡ 0
    ("mod_cubic", (30, 30), {"p": 31}, 0),  # (-1)³ + 1 = 0
    ("mod_cond", (2, 3), {"p": 7}, 5),  # b odd: a + b
    ("mod_cond", (2, 4), {"p": 7}, 5),  # b even: a − b = −2 ≡ 5
    ("mod_cond", (6, 2), {"p": 7}, 4),
    ("mod_neg", (3,), {"p": 7}, 4),
    ("mod_inc", (6,), {"p": 7}, 0),
    ("mod_square", (5,), {"p": 7}, 4),
    ("mod_is_zero", (0,), {"p": 7}, True),
    ("color_succ", (9,), {}, 0),
    ("color_pred", (0,), {}, 9),
    ("color_recolor", (3,), {"a": 3, "b": 7}, 7),
    ("color_recolor", (4,), {"a": 3, "b": 7}, 4),
    ("color_add", (7, 8), {}, 5),
    ("color_max", (2, 8), {}, 8),
    ("color_min", (2, 8), {}, 2),
    ("color_is_zero", (3,), {}, False),
    ("color_eq", (4, 4), {}, True),
    ("color_eq", (4, 5), {}, False),
    ("bool_not", (True,), {}, False),
    ("bool_and", (True, False), {}, False),
    ("bool_or", (True, False), {}, True),
    ("bool_xor", (True, True), {}, False),
    ("seq_reverse", ([1, 2, 3, 4],), {"n": 4}, [4, 3, 2, 1]),
    ("seq_sort", ([3, 1, 2, 1],), {"n": 4}, [1, 1, 2, 3]),
    ("seq_sort_desc", ([3, 1, 2, 1],), {"n": 4}, [3, 2, 1, 1]),
    ("seq_cumsum", ([5, 6, 7, 1],), {"n": 4}, [5, 1, 8, 9]),
    ("seq_histogram", ([3, 1, 3, 3],), {"n": 4}, [3, 1, 3, 3]),
    ("seq_histogram", ([0, 1, 2, 0],), {"n": 4}, [2, 1, 1, 2]),
    ("seq_parity", ([1, 2, 4, 0],), {"n": 4}, True),
    ("seq_parity", ([1, 1, 4, 0],), {"n": 4}, False),
    ("seq_succ", ([0, 9, 5],), {"n": 3}, [1, 0, 6]),
    ("seq_pred", ([0, 9, 5],), {"n": 3}, [9, 8, 4]),
    ("seq_shift_right", ([1, 2, 3],), {"n": 3}, [0, 1, 2]),
    ("seq_shift_left", ([1, 2, 3],), {"n": 3}, [2, 3, 0]),
    ("seq_rotate_right", ([1, 2, 3],), {"n": 3}, [3, 1, 2]),
    ("seq_rotate_left", ([1, 2, 3],), {"n": 3}, [2, 3, 1]),
    ("seq_max", ([1, 7, 3],), {"n": 3}, 7),
    ("seq_min", ([4, 7, 3],), {"n": 3}, 3),
    ("seq_sum", ([4, 7, 3],), {"n": 3}, 4),
    ("grid_rot90", (G,), {"h": 2, "w": 3}, [[4, 1], [5, 2], [6, 3]]),
    ("grid_rot180", (G,), {"h": 2, "w": 3}, [[6, 5, 4], [3, 2, 1]]),
    ("grid_rot270", (G,), {"h": 2, "w": 3}, [[3, 6], [2, 5], [1, 4]]),
    ("grid_hmirror", (G,), {"h": 2, "w": 3}, [[4, 5, 6], [1, 2, 3]]),
    ("grid_vmirror", (G,), {"h": 2, "w": 3}, [[3, 2, 1], [6, 5, 4]]),
    ("grid_dmirror", (G,), {"h": 2, "w": 3}, [[1, 4], [2, 5], [3, 6]]),
    ("grid_cmirror", (G,), {"h": 2, "w": 3}, [[6, 3], [5, 2], [4, 1]]),
    ("grid_transpose", (G,), {"h": 2, "w": 3}, [[1, 4], [2, 5], [3, 6]]),
    ("grid_recolor", ([[1, 2], [2, 1]],), {"h": 2, "w": 2, "a": 2, "b": 9}, [[1, 9], [9, 1]]),
    ("grid_shift_down", (G,), {"h": 2, "w": 3}, [[4, 5, 6], [1, 2, 3]]),
    ("grid_shift_up", ([[1], [2], [3]],), {"h": 3, "w": 1}, [[2], [3], [1]]),
    ("grid_shift_right", (G,), {"h": 2, "w": 3}, [[3, 1, 2], [6, 4, 5]]),
    ("grid_shift_left", (G,), {"h": 2, "w": 3}, [[2, 3, 1], [5, 6, 4]]),
    # the top-left region of 1s (not the separate 1 at the bottom right) becomes 5
    (
        "grid_flood",
        ([[1, 1, 0], [0, 1, 0], [0, 0, 1]],),
        {"h": 3, "w": 3, "c": 5},
        [[5, 5, 0], [0, 5, 0], [0, 0, 1]],
    ),
    ("grid_flood", ([[2, 2], [2, 2]],), {"h": 2, "w": 2, "c": 0}, [[0, 0], [0, 0]]),
    # the experiment's families (learn/data/chains.py): multipliers 2, 5 mod 7; 3 -> 2·3+1 = 0 -> 5·0+4 = 4
    ("mod_affine_chain", (3, 1, 4), {"p": 7, "d": 2}, 4),
    ("seq_max_tail", ([0, 0, 3, 5],), {"n": 4, "live": 2}, 5),
    ("seq_sum_tail", ([0, 0, 7, 5],), {"n": 4, "live": 2}, 2),
]


@pytest.mark.parametrize(("name", "args", "params", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reference_on_hand_computed_cases(name: str, args: tuple, params: dict, expected: Any) -> None:
    assert apply(name, *args, **params) == expected


def test_every_family_has_a_case_and_there_are_at_least_40() -> None:
    names = {f.name for f in families()}
    assert len(names) >= 40
    assert names == {c[0] for c in CASES}


@pytest.mark.parametrize("family", families(), ids=lambda f: f.name)
def test_outputs_are_members_of_the_output_type(family: Any) -> None:
    task = family.build()
    args = sample_inputs(task, 64, np.random.default_rng(1))
    out = task(*args)
    assert out.shape == (64, encoding(task.out_type).n_tokens)
    for row in out[:8]:
        assert contains(task.out_type, unflatten(task.out_type, row.tolist()))


def test_enumeration_is_the_whole_domain_in_product_order() -> None:
    task = get_task("mod_sub", p=5)
    a, b = enumerate_inputs(task)
    assert a.shape == (25, 1)
    assert list(zip(a[:6, 0], b[:6, 0], strict=True)) == [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0)]
    assert len(enumerate_inputs(get_task("mod_div", p=5))[0]) == 20  # b = 0 is outside a / b


def test_sampling_respects_the_valid_mask() -> None:
    _, b = sample_inputs(get_task("mod_div", p=3), 1000, np.random.default_rng(0))
    assert (b != 0).all() and len(b) == 1000


def test_interface_tokens_match_the_type_encoding() -> None:
    task = get_task("seq_histogram", n=4)
    iface = task.interface
    assert (iface.in_vocab, iface.n_positions, iface.out_vocab) == (11, 8, 4)
    assert iface.read_positions == (4, 5, 6, 7)
    x = np.array([[3, 1, 3, 3]])
    tokens = encode_inputs(iface, [x])
    assert tokens.tolist() == [[3, 1, 3, 3, 10, 10, 10, 10]]
    y = encode_outputs(iface, task(x))
    assert y.tolist() == [[2, 0, 2, 2]]  # Int[1, 4]: tokens are value − 1
    assert decode_outputs(iface, y).tolist() == [[3, 1, 3, 3]]
    mod = get_task("mod_add", p=31).interface
    assert (mod.in_vocab, mod.query_token, mod.n_positions, mod.out_vocab) == (32, 31, 3, 31)


def test_split_is_determined_by_the_seed() -> None:
    task = get_task("mod_add", p=11)
    a, b, c = make_split(task, 0.3, 4), make_split(task, 0.3, 4), make_split(task, 0.3, 5)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.val_y, b.val_y)
    assert not torch.equal(a.train_x, c.train_x)
    assert a.exhaustive and a.train_x.shape[0] == round(0.3 * 121) and a.val_x.shape[0] == 121 - 36
    seen = {tuple(r) for r in torch.cat([a.train_x, a.val_x]).tolist()}
    assert len(seen) == 121  # train and val partition the domain
    assert ((a.train_x[:, 0] + a.train_x[:, 1]) % 11 == a.train_y[:, 0]).all()


def test_big_domains_are_sampled_reproducibly() -> None:
    task = get_task("grid_rot90", h=3, w=3)
    s1, s2 = make_split(task, 0.5, 0, n_samples=200), make_split(task, 0.5, 0, n_samples=200)
    assert not s1.exhaustive and s1.train_x.shape == (100, 18)
    assert torch.equal(s1.val_x, s2.val_x)


def test_composition_types_names_and_depth() -> None:
    two = get_task("compose(grid_rot90,grid_rot90)", h=3, w=3)
    x = sample_inputs(two, 50, np.random.default_rng(0))[0]
    assert np.array_equal(two(x), get_task("grid_rot180", h=3, w=3)(x))
    assert two.depth == 2 and two.name == "compose(grid_rot90,grid_rot90)"
    name = "compose(seq_succ,compose(seq_succ,seq_reverse))"
    assert get_task(name, n=3).depth == 3 and apply(name, [1, 2, 9], n=3) == [1, 4, 3]
    # f∘g applies g first: sort then reverse = sort descending
    assert apply("compose(seq_reverse,seq_sort)", [2, 9, 4], n=3) == [9, 4, 2]
    pool = [get_task(n, h=2, w=2) for n in ("grid_rot90", "grid_hmirror", "grid_vmirror")]
    chain = random_chain(pool, 8, 0)
    assert chain.depth == 8 and len(chain.parts) == 8


def test_composition_type_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="seq_max returns Color but seq_sort takes Seq"):
        compose([get_task("seq_sort"), get_task("seq_max")])
    with pytest.raises(ConfigError, match="only unary"):
        get_task("compose(mod_add,mod_neg)")


def test_bad_names_and_parameters_name_the_field() -> None:
    with pytest.raises(UnknownTaskError) as e:
        get_task("mod_ad")
    assert e.value.field == "task" and "mod_add" in e.value.close
    with pytest.raises(ConfigError) as e2:
        get_task("mod_add", q=3)
    assert e2.value.field == "q"
    with pytest.raises(ConfigError) as e3:
        get_task("mod_div", p=30)
    assert e3.value.field == "p" and "prime" in str(e3.value)
    with pytest.raises(ConfigError) as e4:
        get_task("grid_recolor", a=12)
    assert e4.value.field == "a"
    with pytest.raises(ConfigError, match="frac"):
        make_split(get_task("mod_add", p=5), 1.5, 0)
    with pytest.raises(ConfigError, match="frac"):
        make_split(get_task("mod_add", p=5), 0.0, 0)


def test_frac_one_trains_and_validates_on_the_whole_domain() -> None:
    split = make_split(get_task("color_succ"), 1.0, 0)
    assert split.exhaustive and split.train_x.shape[0] == split.val_x.shape[0] == 10
    assert torch.equal(split.train_x, split.val_x)


def test_samples_print_in_circ_syntax() -> None:
    lines = sample_lines(get_task("mod_add", p=7), 5, seed=3)
    for line in lines:
        head, result = line.split(" = ")
        a, b = map(int, head.removeprefix("mod_add(").removesuffix(")").split(", "))
        assert (a + b) % 7 == int(result)
    assert sample_lines(get_task("grid_vmirror", h=1, w=2), 1)[0].startswith("grid_vmirror([[")
    assert sample_lines(get_task("color_eq"), 1)[0].endswith(("true", "false"))
