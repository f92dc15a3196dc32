"""The built-in demo dataset: FACS-driven synthetic faces, paired masked and non-masked.

Faces come from py-feat's action-unit -> face-mesh model (:mod:`.mesh`), get a subject's traits
(:mod:`.identity`), an expression (:mod:`.expressions`) and a pose, are drawn with Pillow
(:mod:`.render`, :mod:`.pair`), masked (:mod:`.masks`), and come with ground truth: landmarks,
the mask polygon, an expression-evidence map (:mod:`.evidence`) and simulated volunteer votes
(:mod:`.votes`). :func:`generate_demo` writes it all (:mod:`.generate`).
"""

from trainers.data.demo.generate import generate_demo

__all__ = ["generate_demo"]
