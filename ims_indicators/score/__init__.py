"""Label scoring: the OECD/JRC composite-indicator chain driven by a versioned YAML model.

- ``model``: the model file (``load_model``), validation and ``--set`` overrides;
- ``steps`` / ``aggregate`` / ``gates``: the steps as plain vectorised functions;
- ``engine``: the nominal run (``score_table``);
- ``robustness``: Monte Carlo and variance-based sensitivity;
- ``warehouse``: ``marts.indicator_values`` in, ``marts.label_*`` out; ``cli``: ``ims score``.

Schema and formulas: ``docs/scoring.md``. Nothing is imported here, to keep ``import ims_indicators`` light.
"""
