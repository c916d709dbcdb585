"""Circuit extraction (DESIGN §8 `extract`): isolate what a trained circuit computes and explain it,
checking each finding on the circuit's whole finite domain.

Whole-domain accuracy is computed with learn's own data code (`domain`: enumerate the task's inputs,
run the model, compare with the reference), not the runtime's certification: `circ.learn` comes
before `circ.runtime`. Circuits extraction registers get their certificate from a `certify` callable
the caller passes (the CLI passes `circ.verify.certify.certify`).

    domain             the whole domain as tensors; the exactness and margin check
    units, scores      heads / neurons / weights kept, mean ablation folded into biases; their scores
    prune              binary-searched pruning, every step checked on the whole domain
    transcoder         per-layer and cross-layer sparse transcoders (SAELens names and shapes)
    train_transcoder   fitting them to a circuit's MLPs; FVU, L0, dead features
    replacement        the replacement model, through hooks or as a plain circuit
    attribution        exact attribution graphs of one input; graph: influence, pruning, scores
    graph_json         circuit-tracer's graph JSON; graph_plot: PNG / SVG
    qk                 exact QK attributions
    labels             feature labels checked on the domain; faithfulness: MIB-style curves
    record             extraction rows, artefacts and provenance in the catalog
    prune_circuit, transcode_circuit, graph_circuit   what `circ extract prune|transcoder|graph` run
"""
