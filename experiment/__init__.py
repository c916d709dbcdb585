"""`circ experiment depth`: composed, verified circuits against one monolithic transformer.

For each composition depth (Mod[97] affine chains, Grid[5, 5] symmetry chains) and each input length
(folds over colour sequences, trained short and tested 4× longer), a `.circ` program over the
catalogued circuits is generated, run on the test inputs and verified, and a transformer with the
circuits' parameter budget (and 4× it) is trained on the same function with circ's own training
(`circ.learn.train`: vmap ensembles of seeds, Ray with `ray=`), then scored on the same inputs.
"""
