"""The reference data the suite needs is where the tests look for it (fails under CI when absent)."""

from __future__ import annotations

from reference_data import ORIGINAL_MATRIX, ORIGINAL_RUN, ORIGINAL_STORAGE, REPO, SHARED, require


def test_reference_data_is_next_to_the_repository() -> None:
    assert SHARED == REPO.parent / "shared"
    for path, what in (
        (ORIGINAL_MATRIX / "maze_meta_info.json", "the original's map folder"),
        (ORIGINAL_RUN / "master_movement.json", "the original's compressed run"),
        (
            ORIGINAL_STORAGE / "base_the_ville_isabella_maria_klaus" / "reverie" / "meta.json",
            "the original's 3-resident base",
        ),
    ):
        assert require(path, what).is_file()
