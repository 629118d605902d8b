"""``finetune`` decides what trains; frozen layers keep their weights and batch-norm statistics."""

from __future__ import annotations

import pytest
import torch
from torch import nn

BACKBONE_UPPER = ("midend.", "pool_bn.", "dense.", "dense_bn.", "tags.")


def _trainable_backbone_prefixes(mode: str) -> tuple[str, ...]:
    return {"none": (), "upper": BACKBONE_UPPER, "all": ("",)}[mode]


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("mode", ["none", "upper", "all"])
def test_trainable_parameters_follow_finetune(make_model, mode):
    model = make_model(finetune=mode, head="mlp")
    trainable = {id(p) for p in model.trainable_parameters()}
    prefixes = _trainable_backbone_prefixes(mode)
    for name, param in model.backbone.named_parameters():
        assert (id(param) in trainable) == name.startswith(prefixes), name
    assert all(id(p) in trainable for p in model.head.parameters())


@pytest.mark.parametrize("mode", ["none", "upper", "all"])
def test_a_training_step_changes_only_what_is_unfrozen(make_model, log_mel, mode):
    model = make_model(finetune=mode)
    model.train()
    before = _snapshot(model.backbone)
    optimizer = torch.optim.SGD(model.trainable_parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(model(log_mel), torch.tensor([0, 1, 2]))
    loss.backward()
    optimizer.step()

    after = model.backbone.state_dict()
    prefixes = _trainable_backbone_prefixes(mode)
    for key, value in before.items():
        if key.endswith("num_batches_tracked"):
            continue
        changed = not torch.equal(value, after[key])
        assert changed == key.startswith(prefixes), key  # weights and running statistics alike
    assert int(model.standardize.num_batches_tracked) == 1  # the head's standardiser always learns


@pytest.mark.parametrize("mode", ["none", "upper"])
def test_frozen_layers_stay_in_eval_mode_while_training(make_model, mode):
    model = make_model(finetune=mode)
    model.train()
    frozen = model.backbone if mode == "none" else model.backbone.timbral
    assert not any(m.training for m in frozen.modules())
    assert model.head.training and model.standardize.training
    model.eval()
    assert not any(m.training for m in model.modules())
