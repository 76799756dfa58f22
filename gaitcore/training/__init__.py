"""Training: the victim GaitSet (He et al. Sec. 4.1, exported here), the WGAN-GP (``training.wgan``),
GaitGAN (``training.gaitgan``) and SPADE (``training.spade``), with one checkpoint module
(``training.checkpoint``)."""

from gaitcore.training.gaitset import GaitSetTrainConfig, TrainResult, train_gaitset
from gaitcore.training.losses import TripletStats, batch_all_triplet_loss
from gaitcore.training.sampler import TripletSampler

__all__ = [
    "GaitSetTrainConfig",
    "TrainResult",
    "TripletSampler",
    "TripletStats",
    "batch_all_triplet_loss",
    "train_gaitset",
]
