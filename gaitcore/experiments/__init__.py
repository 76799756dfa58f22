"""One module per paper artefact: each loads what it needs, runs, and hands its numbers and frames
to :mod:`gaitcore.reporting` (He et al. Tables 2-6, Figs. 4-10 and the studies beyond the paper)."""
