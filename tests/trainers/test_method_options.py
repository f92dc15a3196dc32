"""Per-arm options: typed, checked before a run directory is touched, recorded in study.json."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainers.cli import main
from trainers.config import load_preset, override, preset_names
from trainers.common.errors import DataError
from trainers.methods import ARMS, arm_names, check_config, set_options
from trainers.runner import run_study


@pytest.mark.parametrize("preset", preset_names())
def test_every_shipped_preset_resolves_every_arm(preset: str) -> None:
    methods = check_config(load_preset(preset), arm_names())
    settings = {name: method.settings() for name, method in methods.items()}
    assert json.loads(json.dumps(settings)) == json.loads(json.dumps(settings, default=str))
    assert settings["ran"]["architecture"] == "ran" and settings["scan"]["architecture"] == "scan"


@pytest.mark.parametrize(("methods", "message"), [
    ({"cl": {"feature_wieght": 1.0}},
     r"\[methods.cl\]: unknown option 'feature_wieght'; options: classifier_input, feature_weight, "),
    ({"kd": {"masked_probability": "half"}}, r"\[methods.kd\]: option 'masked_probability' = 'half': expected float"),
    ({"scan": {"epochs": 2.5}}, r"\[methods.scan\]: option 'epochs' = 2.5: expected int"),
    ({"ran": {"subset": "all"}}, r"\[methods.ran\]: subset 'all': use one of pe, mix, nm, m"),
    ({"resnet": {}}, r"\[methods.resnet\]: no such arm; arms: baseline-nm, "),
])
def test_bad_method_tables_name_the_arm_option_and_choices(methods: dict, message: str) -> None:
    config = dataclasses.replace(load_preset("smoke"), methods=methods)
    with pytest.raises(DataError, match=message):
        check_config(config)


def test_command_line_options_are_typed_into_the_tables() -> None:
    config = set_options(load_preset("quick"), {"ran": {"decay_at": "0.5,0.8"}, "cl": {"normalise": "no"}})
    assert config.methods["ran"] == {"epochs": 1, "decay_at": [0.5, 0.8], "optimizer": "adam", "lr_backbone": 1e-3,
                                     "lr_head": 1e-3, "weight_decay": 0.0}
    assert config.methods["cl"]["normalise"] is False and config.methods["cl"]["feature_weight"] == 0.2
    with pytest.raises(DataError, match=r"--set scan: option 'shared' = 'ture': expected bool"):
        set_options(config, {"scan": {"shared": "ture"}})


@pytest.mark.parametrize("flags", [
    ["--set", "cl.feature_weight=abc"],
    ["--set", "cl.feature_wieght=0.5"],
    ["--set", "scan.balanced=ture"],
    ["--set", "nope.x=1"],
    ["--epochs", "3", "--set", "ran.subset=everything"],
])
def test_run_with_a_bad_option_exits_2_and_writes_nothing(flags: list[str], tiny_manifest: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASKFER_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    argv = ["run", "--data", str(tiny_manifest), "--preset", "smoke", "--models", "cl,ran,scan", "--out", str(out)]
    assert main(argv + flags) == 2
    arm = flags[-1].split(".")[0]
    assert f"{arm}" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_bad_preset_table_exits_2_and_writes_nothing(tiny_manifest: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    preset = tmp_path / "typo.toml"
    preset.write_text('epochs = 1\n[methods.kd]\nfeature_weight = 100.0\nmasked_probabilty = 0.5\n')
    out = tmp_path / "run"
    assert main(["run", "--data", str(tiny_manifest), "--preset", str(preset), "--models", "baseline-nm",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert ("[methods.kd]: unknown option 'masked_probabilty'; options: classifier_input, feature_weight, "
            "masked_probability") in err
    assert not out.exists()
    preset.write_text('epochs = "two"\n')
    assert main(["run", "--data", str(tiny_manifest), "--preset", str(preset), "--out", str(out)]) == 2
    assert "option 'epochs' = 'two': expected int" in capsys.readouterr().err and not out.exists()


def test_study_records_every_arms_settings_and_resume_checks_them(tiny_manifest: Path, tmp_path: Path) -> None:
    config = override(load_preset("quick"), k=2, folds=[])  # no fold to train: only the run directory's files
    out = tmp_path / "run"
    run_study(tiny_manifest, config, "quick", ["ran", "scan"], out, device="cpu")
    arms = json.loads((out / "study.json").read_text())["arms"]
    assert set(arms) == {"ran", "scan"}
    assert arms["ran"]["epochs"] == 1 and arms["ran"]["options"]["decay_at"] == []
    assert arms["scan"]["architecture_options"] == {"shared": True, "separate_quadrant_heads": False,
                                                     "trunk": "resnet18"}
    assert arms["scan"]["options"]["optimizer"] == "adam" and arms["scan"]["epochs"] == config.epochs
    run_study(tiny_manifest, config, "quick", ["cl"], out, device="cpu")  # a new arm joins the run
    assert set(json.loads((out / "study.json").read_text())["arms"]) == {"ran", "scan", "cl"}
    arm = ARMS["ran"]
    origin = f"{arm.method.__module__}.{arm.method.__qualname__}"
    ARMS.add("ran", dataclasses.replace(arm, defaults={"momentum": 0.5}), origin=origin)  # the code's default moved
    try:
        with pytest.raises(DataError, match=r"arms.ran.options.momentum: 0.9 -> 0.5"):
            run_study(tiny_manifest, config, "quick", ["ran"], out, device="cpu")
    finally:
        ARMS.add("ran", arm, origin=origin)


@pytest.mark.slow
def test_module_entry_point_exits_2_on_a_bad_option(tiny_manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "trainers", "run", "--data", str(tiny_manifest), "--preset", "smoke",
                           "--models", "cl", "--out", str(out), "--set", "cl.normalise=ture"],
                          capture_output=True, text=True, env={**os.environ, "MASKFER_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 2, done.stderr
    assert "--set cl: option 'normalise' = 'ture': expected bool" in done.stderr
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_ran_and_scan_take_adam_from_the_optimizer_option() -> None:
    import torch

    from trainers.methods import create_method

    config = load_preset("quick")
    for name in ("ran", "scan"):
        method = create_method(name, config)
        optimizer, _ = method.configure_optimizers(method.build_model(7))
        assert isinstance(optimizer, torch.optim.Adam)
        assert [(g["name"], g["lr"]) for g in optimizer.param_groups] == [("backbone", 1e-3), ("head", 1e-3)]
    with pytest.raises(DataError, match="optimizer 'rmsprop': use one of sgd, adam"):
        check_config(dataclasses.replace(config, methods={"scan": {"optimizer": "rmsprop"}}))


def test_ran_and_scan_share_one_options_base_and_studies_with_the_older_order_still_match() -> None:
    """RAN and SCAN options derive from ReferenceOptions; study.json recorded them in another order before,
    and the resume check (config_differences) compares them by name."""
    from trainers.config import config_differences
    from trainers.methods.ran import RanOptions, ReferenceOptions
    from trainers.methods.scan import ScanOptions

    assert issubclass(RanOptions, ReferenceOptions) and issubclass(ScanOptions, ReferenceOptions)
    older_ran = {"backbone": "resnet18", "weights": "study", "subset": "pe", "lr_backbone": 0.01, "lr_head": 0.01,
                 "momentum": 0.9, "weight_decay": 1e-4, "decay_at": [0.3, 0.5, 0.8], "gamma": 0.1, "epochs": 0,
                 "batch_size": 0, "optimizer": "sgd"}  # the field order of study.json files written before
    assert dataclasses.asdict(RanOptions()) == older_ran and list(dataclasses.asdict(RanOptions())) != list(older_ran)
    assert config_differences({"ran": older_ran}, {"ran": dataclasses.asdict(RanOptions())}) == []
    scan = dataclasses.asdict(ScanOptions())
    assert (scan["weights"], scan["lr_backbone"], scan["lr_head"], scan["weight_decay"], scan["gamma"]) == (
        "none", 1e-4, 1e-2, 1e-3, 0.95)  # SCAN's reference defaults, redeclared over the shared fields
    for options in (RanOptions, ScanOptions):
        with pytest.raises(DataError, match="optimizer 'rmsprop'"):
            options(optimizer="rmsprop")
        with pytest.raises(DataError, match="subset 'all'"):
            options(subset="all")
