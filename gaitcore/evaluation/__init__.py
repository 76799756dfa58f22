"""Pure metrics: the paper's protocols (Table 1), stored features and rank-1 accuracy, accuracy and
targeted success under attack, GEI templates, the Fréchet distance and frame-level imperceptibility
measures, and the subject-level bootstrap intervals of accuracies and their paired differences.
Nothing here trains or attacks."""

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
from gaitcore.evaluation.uncertainty import (
    Interval,
    paired_difference,
    subject_bootstrap,
    subject_totals,
    view_columns,
)
from gaitcore.utils.tables import write_table

__all__ = [
    "Interval",
    "PreparedGallery",
    "Protocol",
    "casia_a_protocol",
    "casia_b_protocol",
    "distances",
    "evaluate_rank1",
    "extract_features",
    "feature_index",
    "natural_accuracy",
    "paired_difference",
    "prepare_gallery",
    "protocol_for",
    "rank1_identities",
    "rank1_per_view_pair",
    "read_features",
    "subject_bootstrap",
    "subject_totals",
    "summarize_rank1",
    "summary_markdown",
    "view_columns",
    "write_features",
    "write_table",
]
