"""gaitcore: temporal sparse adversarial attacks on sequence-based gait recognition.

A reimplementation of He et al., "Temporal Sparse Adversarial Attack on Sequence-based Gait
Recognition": data (``gaitcore.data``), models (``gaitcore.models``), training
(``gaitcore.training``) and evaluation (``gaitcore.evaluation``), usable without Snakemake.
"""

__version__ = "0.1.0"
