"""Faithfulness of attribution maps: does removing what a map ranks first change the model's output?

- :mod:`~interp.faithfulness.imputation`: ROAD's noisy linear imputation (Rong et al. 2022), the way
  pixels are removed everywhere here - filled from their neighbours, not with a constant;
- :mod:`~interp.faithfulness.curves`: deletion and insertion curves and their areas;
- :mod:`~interp.faithfulness.occlusion`: the drop in the explained class's probability when the upper or
  the lower face is removed, against an equal-area control region placed on the face.
"""

from interp.faithfulness.curves import Curves, deletion_insertion, ranking
from interp.faithfulness.imputation import noisy_linear_imputation
from interp.faithfulness.occlusion import control_region, region_occlusion

__all__ = ["Curves", "control_region", "deletion_insertion", "noisy_linear_imputation", "ranking",
           "region_occlusion"]
