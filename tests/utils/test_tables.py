"""Parquet tables with JSON metadata: written whole, read back, refused by name when foreign."""

import pandas as pd
import pytest

from gaitcore.errors import DataError
from gaitcore.utils.tables import read_parquet_with_meta, write_parquet_with_meta


def test_a_table_reads_back_with_its_metadata_and_a_foreign_one_is_a_data_error_naming_the_file(tmp_path):
    table = pd.DataFrame({"subject": ["075", "076"], "rank1": [1.0, 0.0]})
    write_parquet_with_meta(table, tmp_path / "t.parquet", b"gaitcore.test", {"seed": 3})
    back, meta = read_parquet_with_meta(tmp_path / "t.parquet", b"gaitcore.test", "a test table", "rerun it")
    pd.testing.assert_frame_equal(back, table)
    assert meta == {"seed": 3} and not list(tmp_path.glob("*.tmp"))
    with pytest.raises(DataError, match=r"t\.parquet: no gaitcore\.other metadata; not an other table.*rerun it"):
        read_parquet_with_meta(tmp_path / "t.parquet", b"gaitcore.other", "an other table", "rerun it")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"bad\.parquet: not a readable Parquet table"):
        read_parquet_with_meta(tmp_path / "bad.parquet", b"gaitcore.test", "a test table", "rerun it")
