"""Circuits to and from other tools' model formats: TransformerLens (`transformer_lens`: config and
weights both ways; `tl_directory`: a catalogued circuit as a directory TransformerLens loads, and back).
"""
