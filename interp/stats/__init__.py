"""Statistical tests for comparing models over folds, images and subjects.

Every test is a small class that declares its ``name``, ``level`` (folds, images or subjects),
``assumptions``, score ``direction`` and ``reference``; the dashboard and the report read this
metadata (:func:`describe_tests`). Adding a pairwise test is one class in a file of this package
added to the registry :data:`PAIRWISE_TESTS` here; :mod:`interp.stats.comparisons` runs every registered test
over every comparison of a family and adjusts within the family.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from interp.stats.base import PairedScores, PairwiseTest, TestInfo, TestResult
from interp.stats.bootstrap import SubjectBootstrap, cluster_bootstrap_difference
from interp.stats.fold_tests import (
    CorrectedResampledTTest, NonInferiority, WilcoxonSignedRank, corrected_resampled_ttest, noninferiority_ttest,
    wilcoxon_folds,
)
from interp.stats.friedman import Friedman, friedman_test
from interp.stats.mcnemar import ClusteredMcNemar, clustered_mcnemar_test
from interp.stats.multiple import UnderpoweredFamilyWarning, adjust, check_family
from trainers.common.registry import Registry

PAIRWISE_TESTS: Registry[type[PairwiseTest]] = Registry("pairwise test")
OMNIBUS_TESTS: Registry[type[TestInfo]] = Registry("omnibus test")
for _test in (CorrectedResampledTTest, NonInferiority, WilcoxonSignedRank, ClusteredMcNemar, SubjectBootstrap):
    PAIRWISE_TESTS.register()(_test)
OMNIBUS_TESTS.register()(Friedman)


def build_test(name: str, **options: object) -> PairwiseTest:
    """An instance of a registered pairwise test; ``options`` it does not take are ignored."""
    test = PAIRWISE_TESTS[name]
    accepted = {f.name for f in dataclasses.fields(test)}
    return test(**{key: value for key, value in options.items() if key in accepted})


def default_tests() -> tuple[str, ...]:
    """Registered pairwise tests a family runs when it names none (those with ``default`` True)."""
    return tuple(name for name, test in PAIRWISE_TESTS.items() if test.default)


def describe_tests() -> pd.DataFrame:
    """One row of metadata per registered test (pairwise and omnibus)."""
    tests = list(PAIRWISE_TESTS.values()) + list(OMNIBUS_TESTS.values())
    return pd.DataFrame([test.describe() for test in tests])


__all__ = [
    "PAIRWISE_TESTS", "OMNIBUS_TESTS", "PairedScores", "PairwiseTest", "TestInfo", "TestResult",
    "UnderpoweredFamilyWarning", "adjust", "build_test", "check_family", "cluster_bootstrap_difference",
    "clustered_mcnemar_test", "corrected_resampled_ttest", "default_tests", "describe_tests", "friedman_test",
    "noninferiority_ttest", "wilcoxon_folds",
]
