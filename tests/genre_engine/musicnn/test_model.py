"""The musicnn network as a registry model: shapes, arguments, weights, and the eval shortcut."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genre_engine.checkpoint import ModelBundle, load_checkpoint, save_checkpoint
from genre_engine.labels import GENRES
from genre_engine.models import create_model
from genre_engine.models.musicnn import Musicnn
from tests.genre_engine.musicnn.conftest import CONFIG


@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_shapes(make_model, log_mel, head):
    model = make_model(head=head)
    with torch.inference_mode():
        embedding = model.forward_features(log_mel)
        assert embedding.shape == (3, model.embedding_dim) == (3, 1756)
        assert model.forward_head(embedding).shape == (3, 10)
        tags = model.tag_probabilities(log_mel)
    assert tags.shape == (3, 50) and bool(((tags > 0) & (tags < 1)).all())


def test_pooling_makes_any_patch_length_work(make_model, log_mel):
    with torch.inference_mode():
        assert make_model()(log_mel[..., :20]).shape == (3, 10)
        assert make_model()(torch.cat([log_mel] * 4, dim=3)).shape == (3, 10)


def test_embedding_holds_the_transfer_feature_set(make_model, log_mel):
    """[mean_pool, max_pool, penultimate, tag probabilities]: the baseline probe's features."""
    model = make_model()
    with torch.inference_mode():
        features = model.transfer_features(log_mel)
        out = model.backbone(log_mel)
    assert torch.equal(features[:, :753], out.mean_pool)
    assert torch.equal(features[:, 753:1506], out.max_pool)
    assert torch.equal(features[:, 1506:1706], out.penultimate)
    assert torch.equal(features[:, 1706:], torch.sigmoid(out.logits))


@pytest.mark.parametrize(
    "args, message",
    [
        ({"variant": "MSD_vgg"}, "variant"),
        ({"head": "svm"}, "head"),
        ({"finetune": "some"}, "finetune"),
    ],
)
def test_rejects_unknown_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        create_model("musicnn", 10, CONFIG.shape, **args)


def test_rejects_features_other_than_musicnn_mel():
    with pytest.raises(ValueError, match="96 mel bands"):
        create_model("musicnn", 10, (128, 130))


@pytest.mark.parametrize("variant", ["MSD_musicnn", "MTT_musicnn"])
def test_loads_the_shipped_weights(make_model, shipped_weights, variant):
    weights = shipped_weights[variant]
    model = make_model(variant=variant)
    state = model.backbone.state_dict()
    assert all(torch.equal(state[key], value) for key, value in weights["state_dict"].items())
    n_parameters = sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked"))
    assert n_parameters == weights["provenance"]["parameters"] == 792_079
    assert len(model.tag_names) == 50 and model.tag_names == tuple(weights["tags"])


def test_variants_are_different_networks(shipped_weights):
    msd, mtt = (shipped_weights[v]["state_dict"]["tags.weight"] for v in ("MSD_musicnn", "MTT_musicnn"))
    assert not torch.equal(msd, mtt)


def test_load_pretrained_refuses_another_variants_weights(tmp_path, shipped_weights):
    path = tmp_path / "mtt.pt"
    torch.save(shipped_weights["MTT_musicnn"], path)
    model = Musicnn(10, CONFIG.shape, variant="MSD_musicnn")
    with pytest.raises(ValueError, match="MTT_musicnn"):
        model.load_pretrained(path)
    with pytest.raises(FileNotFoundError, match="convert_musicnn"):
        model.load_pretrained(tmp_path / "missing.pt")


def test_eval_shortcut_equals_the_layer_order_of_the_original(make_model, log_mel):
    """Pooling before ReLU and batch norm (and min for negative scales) must change nothing."""
    backbone = make_model().backbone
    with torch.inference_mode():
        x = backbone.input_bn(log_mel)
        for block in (*backbone.timbral, *backbone.temporal):
            original = block.bn(F.relu(block.conv(F.pad(x, (*block.time_pad, 0, 0))))).amax(dim=2)
            assert bool((block.bn.weight < 0).any()), "the shortcut's negative-scale path must be exercised"
            torch.testing.assert_close(block(x), original, rtol=0, atol=1e-5)


def test_round_trips_through_a_genre_checkpoint(make_model, log_mel, tmp_path):
    """model_args are replayed at load time; the backbone's weights travel in the state dict."""
    args = {"variant": "MTT_musicnn", "head": "mlp", "finetune": "upper", "hidden": 64}
    model = make_model(**args)
    bundle = ModelBundle(model, "musicnn", args, CONFIG, GENRES, torch.zeros(96), torch.ones(96))
    loaded = load_checkpoint(save_checkpoint(tmp_path / "musicnn.pt", bundle)).model
    with torch.inference_mode():
        torch.testing.assert_close(loaded(log_mel), model(log_mel), rtol=0, atol=0)
