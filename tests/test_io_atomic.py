"""atomic_directory: a directory appears whole or not at all, and nothing is left beside it."""

from __future__ import annotations

import pytest

from elbench.io import atomic_directory


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_new_directory_appears_whole(tmp_path):
    target = tmp_path / "q0"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("1")
        assert not target.exists()
    assert (target / "a.txt").read_text() == "1"
    assert oct(target.stat().st_mode & 0o777) == "0o755"
    assert _siblings(target) == ["q0"]


def test_replaces_an_old_directory(tmp_path):
    target = tmp_path / "q0"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_directory(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert _siblings(target) == ["q0"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failure_leaves_the_old_directory_and_no_temporaries(tmp_path, error):
    target = tmp_path / "q0"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(type(error)):
        with atomic_directory(target) as tmp:
            (tmp / "half.txt").write_text("half")
            raise error
    assert (target / "old.txt").read_text() == "old" and not (target / "half.txt").exists()
    assert _siblings(target) == ["q0"]


def test_leftovers_of_an_earlier_interrupt_are_removed(tmp_path):
    """A Ctrl-C between mkdtemp and the assignment leaves an unnamed .q0.tmp-* copy: removed by name."""
    (tmp_path / ".q0.tmp-abc").mkdir()
    (tmp_path / ".q0.old-def").mkdir()
    (tmp_path / ".q1.tmp-xyz").mkdir()  # another directory's: not touched
    with atomic_directory(tmp_path / "q0") as tmp:
        (tmp / "a").write_text("")
    assert _siblings(tmp_path / "q0") == [".q1.tmp-xyz", "q0"]
