"""The circuit ABI: token encodings of types, the token layout of a signature, and the one encoder
shape every backend follows (leaves, then zeros, minus `shift`)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from circ.circuit.config import ModelConfig
from circ.circuit.interface import CircuitInterface, Encoding, encoding, lows
from circ.circuit.signature import format_signature
from circ.lang import layout
from circ.lang import types as T
from circ.learn.data.tokens import decode_outputs, encode_inputs, encode_outputs, split_args
from circ.verify.strategies import strategy


def test_encodings_follow_design_section_3() -> None:
    assert encoding(T.ModT(97)) == Encoding(1, 97)
    assert encoding(T.SeqT(T.COLOR, 6)) == Encoding(6, 10)
    assert encoding(T.GridT(5, 5)) == Encoding(25, 10)
    assert encoding(T.BOOL) == Encoding(1, 2)
    assert encoding(T.IntT(-3, 3)) == Encoding(1, 7)
    # a tuple concatenates its parts; the vocabulary is the largest part's
    assert encoding(T.TupleT((T.ModT(97), T.COLOR))) == Encoding(2, 97)


def test_scalar_tokens_are_offsets_from_the_low_end() -> None:
    assert lows(T.IntT(-3, 3)) == [-3]
    iface = CircuitInterface((T.IntT(-3, 3), T.BOOL), T.IntT(-3, 3))
    assert iface.shift == (-3, 0, -iface.query_token)
    tokens = encode_inputs(iface, [np.array([[-3]]), np.array([[1]])])
    assert tokens.tolist() == [[0, 1, iface.query_token]]
    assert decode_outputs(iface, np.array([[6]])).tolist() == [[3]]


def test_layout_of_a_grid_circuit() -> None:
    iface = CircuitInterface((T.GridT(5, 5), T.COLOR), T.GridT(5, 5))
    assert (iface.n_in, iface.n_out, iface.n_positions) == (26, 25, 51)
    assert iface.in_vocab == 11 and iface.query_token == 10 and iface.out_vocab == 10
    assert iface.read_positions == tuple(range(26, 51))
    config = ModelConfig.for_interface(iface, d_model=32, n_heads=2)
    config.check_interface(iface)
    assert (config.vocab, config.n_positions, config.n_out) == (11, 51, 25)


def test_one_signature_format() -> None:
    assert format_signature((T.ModT(97), T.ModT(97)), T.ModT(97)) == "(Mod[97], Mod[97]) -> Mod[97]"
    assert format_signature((), T.BOOL) == "() -> Bool"


_types = st.sampled_from(
    [
        T.BOOL,
        T.COLOR,
        T.ModT(7),
        T.IntT(-2, 3),
        T.SeqT(T.IntT(-1, 1), 3),
        T.GridT(2, 2),
        T.TupleT((T.BOOL, T.ModT(3))),
    ]
)


@given(
    st.lists(_types, min_size=1, max_size=3).flatmap(
        lambda ts: st.tuples(st.just(ts), st.tuples(*map(strategy, ts)))
    )
)
def test_tokens_round_trip_through_the_layout(case) -> None:
    arg_types, values = case
    iface = CircuitInterface(tuple(arg_types), arg_types[0])
    args = [np.array([layout.flatten(t, v)]) for t, v in zip(arg_types, values, strict=True)]
    tokens = encode_inputs(iface, args)
    assert tokens.shape == (1, iface.n_positions)
    assert (tokens[:, : iface.n_in] >= 0).all() and (tokens[:, : iface.n_in] < iface.in_vocab - 1).all()
    assert (tokens[:, iface.n_in :] == iface.query_token).all()
    back = split_args(iface, tokens)
    assert [b.tolist() for b in back] == [a.tolist() for a in args]
    out = encode_outputs(iface, args[0])
    assert decode_outputs(iface, out).tolist() == args[0].tolist()
