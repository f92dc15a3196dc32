"""The options of the attention audit (``--set attributions.OPTION=VALUE``): one dataclass, type-checked
by :mod:`trainers.common.options` before any step runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from interp.attribution import ATTRIBUTIONS
from interp.audit.map_checks import AgreementConfig, FaithfulnessConfig
from interp.audit.sanity import RANDOMISATION_THRESHOLD
from interp.audit.targets import TARGETS
from trainers.common.errors import DataError
from trainers.common.options import build

VIEWS: tuple[str, ...] = ("pe", "all")
"""Image pools of the ``view`` option."""


@dataclass
class AuditConfig:
    """Options of the attention audit (the ``attributions`` analysis step).

    Attributes
    ----------
    method
        Attribution method (a key of :data:`interp.attribution.ATTRIBUTIONS`).
    settings
        The method's own settings (its ``Settings`` dataclass, e.g. ``steps`` of integrated_gradients,
        ``window`` and ``stride`` of occlusion; ``--set attributions.settings.steps=32``); resolved
        with their defaults when the config is built, so they enter the step's fingerprint.
    target
        ``"true"`` (default) explains the labelled class, so both images of a pair and every arm's maps
        explain the same class; ``"pred"`` the predicted class; ``"pair"`` the class
        predicted on the pair's non-masked image for both images of the pair (unlabelled photos:
        both maps explain the same class; :func:`interp.audit.targets.explained_classes`).
    batch_size
        Images per attribution batch.
    bf16
        Run attributions under bfloat16 autocast (faster on bf16-capable CPUs and on GPUs).
    view
        Which validation images the audit draws from: ``"pe"`` (default) the images of complete validated
        pairs (the held-out PE view, what the attention-shift test needs; all validation images when the
        run has no complete pair), ``"all"`` every validation image.
    max_images
        At most this many of those images per model over all folds, whole pairs, a seeded
        subject-stratified sample (:func:`interp.audit.sampling.stratified_sample`); 0 = all.
    map_size
        Side of the stored low-resolution maps.
    overlay_pairs
        Pairs drawn as overlays (from the first fold).
    baseline, compare
        Reference model (default: baseline-mix, else baseline-nm) and the models tested against it
        (empty, the default: the study's arms of role ``ours``, from ``study.json``; :func:`interp.audit.write.compared_arms`).
    sanity
        Run the sanity checks (randomisation, cross-fold consistency, faithfulness, evidence).
    sanity_images
        Images used by the randomisation and consistency checks: a seeded, subject-stratified
        sample of the audited images, from the images no fold model trained on where the run has
        them (a test set), else over all folds.
    randomisation_stages
        Most layer groups (blocks) randomised in the cascade.
    randomisation_folds
        Folds of each model that run the randomisation cascade (the first ones; 0 = all).
    randomisation_threshold
        Pass criterion of the randomisation check: the mean absolute-value Spearman correlation of
        the fully randomised model's maps with the trained model's is below it, in every fold checked
        (:func:`interp.audit.sanity.randomisation_check`).
    faithfulness_repeats
        Random equal-area regions per image.
    null_draws
        Fully randomised networks (each re-initialised with its own seed) for the null band of every region
        metric and of the shift index (:class:`interp.audit.nulls.NullPool`: when the maps explain the true
        class, the arms whose maps are of one kind share the draws); 0 skips the null.
    null_pairs
        Pairs per fold the randomised networks explain: a seeded, subject-stratified sample of the audited
        pairs (0 = all of them); what keeps the null affordable (see docs/attention-audit.md, cost).
    threads
        torch CPU threads during the step; 0 keeps torch's default. On a shared machine 1 can be
        several times faster than oversubscribed cores.
    faithfulness
        Deletion/insertion curves and face-region occlusion with ROAD imputation
        (:class:`interp.audit.map_checks.FaithfulnessConfig`; ``--set attributions.faithfulness.images=16``).
    agreement
        A second attribution method beside ``method`` and the agreement of the shift index
        (:class:`interp.audit.map_checks.AgreementConfig`; ``--set attributions.agreement.method=occlusion``).
    """

    method: str = "gradcam"
    settings: dict[str, Any] = field(default_factory=dict)
    target: str = "true"
    batch_size: int = 32
    bf16: bool = False
    view: str = "pe"
    max_images: int = 0
    map_size: int = 28
    overlay_pairs: int = 4
    baseline: str = ""
    compare: tuple[str, ...] = ()
    sanity: bool = True
    sanity_images: int = 16
    randomisation_stages: int = 8
    randomisation_folds: int = 3
    randomisation_threshold: float = RANDOMISATION_THRESHOLD
    faithfulness_repeats: int = 3
    null_draws: int = 20
    null_pairs: int = 2
    seed: int = 0
    threads: int = 0
    faithfulness: FaithfulnessConfig = field(default_factory=FaithfulnessConfig)
    agreement: AgreementConfig = field(default_factory=AgreementConfig)

    def __post_init__(self) -> None:
        settings = build(ATTRIBUTIONS[self.method].Settings, self.settings, f"settings of {self.method}")
        self.settings = asdict(settings)
        if self.target not in TARGETS:
            raise DataError(f"target {self.target!r}: use 'pred' (predicted class), 'true' (label) or 'pair' "
                            "(the class predicted on the pair's non-masked image)")
        if self.view not in VIEWS:
            raise DataError(f"view {self.view!r}: use 'pe' (images of complete validated pairs) or 'all'")
        if self.null_draws < 0 or self.null_pairs < 0:
            raise DataError(f"null_draws and null_pairs must be 0 or positive, got {self.null_draws} and "
                            f"{self.null_pairs}")
        if self.max_images < 0:
            raise DataError(f"max_images must be 0 (all images) or positive, got {self.max_images}")
