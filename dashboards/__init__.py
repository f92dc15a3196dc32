"""``dashboards``: the Dash app that browses one or several studies (``python -m dashboards RUN``).

It reads a study only through :mod:`interp.results` and never trains or attributes: every number and
image comes from ``analysis/``, which ``python -m interp.analyze`` writes.
"""
