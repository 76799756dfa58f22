"""Pure metrics: the paper's protocols (Table 1), stored features and rank-1 accuracy, accuracy and
targeted success under attack, GEI templates, the Fréchet distance and frame-level imperceptibility
measures. Nothing here trains or attacks."""

from gaitcore.evaluation.features import extract_features, feature_index, read_features, write_features
from gaitcore.evaluation.protocols import Protocol, casia_a_protocol, casia_b_protocol, protocol_for
from gaitcore.evaluation.rank1 import (
    PreparedGallery,
    distances,
    evaluate_rank1,
    natural_accuracy,
    prepare_gallery,
    rank1_identities,
    rank1_per_view_pair,
    summarize_rank1,
    summary_markdown,
)
from gaitcore.utils.tables import write_table

__all__ = [
    "PreparedGallery",
    "Protocol",
    "casia_a_protocol",
    "casia_b_protocol",
    "distances",
    "evaluate_rank1",
    "extract_features",
    "feature_index",
    "natural_accuracy",
    "prepare_gallery",
    "protocol_for",
    "rank1_identities",
    "rank1_per_view_pair",
    "read_features",
    "summarize_rank1",
    "summary_markdown",
    "write_features",
    "write_table",
]
