"""Everything computed from finished runs: tables, fold statistics, embeddings, attributions.

``python -m interp.analyze RUN`` writes ``RUN/analysis/``; :mod:`interp.runs` is the one reader of
a run directory.
"""
