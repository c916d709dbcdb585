"""Learning dynamics and mechanisms (DESIGN §8 `analyse`): what a trained circuit computes and how
training got there. One module per measure:

    bases            token and discrete-log orders of Z_p (the generator of Z_p^*)
    fourier          the real Fourier basis of Z_n; spectra of embeddings and unembeddings
    key_frequencies  the few frequencies a sparse spectrum is made of
    sparsity         Gini coefficient of a spectrum
    grid             every input of a modular circuit on its group's grid
    neurons          neuron frequency clusters (variance share of one frequency)
    restricted_loss  Nanda et al. 2023's restricted and excluded loss
    cleanup          the clean-up measure `circ train --stop-after-cleanup` stops on
    attention        attention patterns per head (sequence and grid circuits)
    attribution      which input cell each output reads
    trajectory       progress measures along a run's snapshots, and its phases
    mechanism        one circuit's analysis as a JSON summary with a headline
    plots            the PNGs
    sources          a `circ train` run directory or a catalogued circuit, as something to analyse
"""
