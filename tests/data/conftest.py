"""Small hand-made silhouette trees in the released layouts."""

import numpy as np
import pytest

from tests.data.silhouettes import person_frame, write_png


@pytest.fixture
def casia_b_tree(tmp_path):
    """Subject 001: nm-01 at views 000 and 018 (3 frames each, one of them empty at 018)."""
    root = tmp_path / "casia_b"
    for view in ("000", "018"):
        for frame_no in (1, 2, 3):
            image = person_frame(offset=frame_no)
            if view == "018" and frame_no == 2:
                image = np.zeros_like(image)
            write_png(root / "001" / "nm-01" / view / f"001-nm-01-{view}-{frame_no:03d}.png", image)
    return root


@pytest.fixture
def casia_a_tree(tmp_path):
    """Person fyc: all 12 sequences (00_1 .. 90_4) with 2 frames each."""
    root = tmp_path / "casia_a"
    for seq in (f"{view}_{run}" for view in ("00", "45", "90") for run in (1, 2, 3, 4)):
        for frame_no in (1, 2):
            write_png(root / "fyc" / seq / f"fyc-{seq}-{frame_no:03d}.png", person_frame((240, 352)))
    return root
