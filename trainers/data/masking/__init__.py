"""Synthetic face masks on real photos: the outline from landmarks (:mod:`.outline`), the painting
(:mod:`.paint`), the ``data mask`` step that turns a dataset into NM/M pairs (:mod:`.apply`) and its
before/after preview sheet (:mod:`.preview`)."""
