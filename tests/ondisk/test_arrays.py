"""Arrays on disk: written and read in row chunks, row views that pickle as paths, column
moments equal to numpy's to the bit, and a clear error where the file cannot be read."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_cleanlab.errors import EngineError, InvalidOptionError
from ls_cleanlab.ondisk import DiskArray, column_moments, scratch_dir
from ls_cleanlab.ondisk import arrays as arrays_module


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrays_module, "CHUNK_BYTES", 1000)  # a few rows per chunk


def test_save_open_take_and_select(tmp_path: Path, small_chunks: None) -> None:
    values = np.random.default_rng(0).normal(size=(103, 7)).astype(np.float32)
    stored = DiskArray.save(tmp_path / "x.npy", values)
    assert stored.shape == (103, 7) and stored.ndim == 2 and len(stored) == 103
    assert stored.chunk_rows == 1000 // 28
    chunks = list(stored.chunks())
    assert chunks[0] == (0, 35) and chunks[-1][1] == 103
    np.testing.assert_array_equal(stored.take(), values)
    np.testing.assert_array_equal(np.asarray(stored), values)
    np.testing.assert_array_equal(DiskArray.open(tmp_path / "x.npy").take(), values)
    rows = np.array([90, 3, 3, 50])
    view = stored.select(rows)
    assert view.shape == (4, 7) and "4 rows selected" in repr(view)
    np.testing.assert_array_equal(view.take(), values[rows])
    np.testing.assert_array_equal(view[np.array([1, 3])], values[rows][[1, 3]])
    np.testing.assert_array_equal(view[1:3], values[rows][1:3])
    np.testing.assert_array_equal(view[-1], values[50])
    np.testing.assert_array_equal(view.select(slice(1, None)).take(), values[rows[1:]])
    mask = np.zeros(103, bool)
    mask[[5, 7]] = True
    np.testing.assert_array_equal(stored[mask], values[mask])
    assert view.take(dtype=np.float64).dtype == np.float64
    with pytest.raises(IndexError, match="rows only"):
        view[0, 1]


def test_a_view_pickles_as_its_path(tmp_path: Path) -> None:
    values = np.arange(12, dtype=np.float32).reshape(6, 2)
    view = DiskArray.save(tmp_path / "x.npy", values).select(np.array([4, 0]))
    sent = pickle.dumps(view)
    assert len(sent) < 1000  # the path and the row selection, not the data
    np.testing.assert_array_equal(pickle.loads(sent).take(), values[[4, 0]])


def test_writes_and_scatters(tmp_path: Path) -> None:
    made = DiskArray.create(tmp_path / "new.npy", (5, 3))
    np.testing.assert_array_equal(made.take(), np.zeros((5, 3)))
    made.write(1, np.ones((2, 3), np.float32))
    made.scatter(np.array([4, 0]), np.array([[4, 4, 4], [7, 7, 7]], np.float32))
    np.testing.assert_array_equal(made.take()[:, 0], [7, 1, 1, 0, 4])
    with pytest.raises(InvalidOptionError, match="not to a view"):
        made.select([0]).write(0, np.ones((1, 3)))
    np.save(tmp_path / "flat.npy", np.ones(4))
    with pytest.raises(InvalidOptionError, match="1-D array, not a matrix"):
        DiskArray.open(tmp_path / "flat.npy")


def test_a_missing_file_says_to_share_the_data_dir(tmp_path: Path) -> None:
    gone = DiskArray(str(tmp_path / "gone.npy"), (3, 2), "<f4")
    with pytest.raises(EngineError, match="storage every worker mounts at the same path"):
        gone.take()


@given(
    rows=st.integers(1, 60),
    cols=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    chunk=st.integers(1, 9),
)
def test_column_moments_equal_numpy_to_the_bit(rows: int, cols: int, seed: int, chunk: int) -> None:
    rng = np.random.default_rng(seed)
    values = (rng.normal(size=(rows, cols)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
    ok = rng.random(rows) < 0.7
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        stored = DiskArray.save(Path(folder) / "x.npy", values)
        original = arrays_module.CHUNK_BYTES
        arrays_module.CHUNK_BYTES = chunk * cols * 4
        try:
            mean, std, count = column_moments(stored, ok)
        finally:
            arrays_module.CHUNK_BYTES = original
    picked = values[ok].astype(np.float64)
    assert count == ok.sum()
    if count:
        assert np.array_equal(mean, picked.mean(axis=0))
        assert np.array_equal(std, picked.std(axis=0))


def test_scratch_dirs_are_removed(tmp_path: Path) -> None:
    with scratch_dir(tmp_path / "scratch") as work:
        (work / "x.npy").write_bytes(b"1")
        assert work.parent == tmp_path / "scratch" and work.name.startswith("run-")
    assert not work.exists()
    with scratch_dir() as temporary:
        assert temporary.is_dir()
    assert not temporary.exists()
