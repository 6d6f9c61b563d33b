"""A label read off a target names a requested version by name, by its resolved commit,
or SHA to SHA: how `git push` history (SHAs) meets versions people name (tags)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shipper.core.model import Side, Target, TargetState, Version, names_version
from shipper.git_history import GitHistory

SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"


@pytest.mark.parametrize(
    ("label", "version", "commit", "names"),
    [
        ("v42", "v42", None, True),
        ("v41", "v42", None, False),
        (None, "v42", None, False),  # an unknown label names nothing
        (SHA, "v42", SHA, True),  # a pushed slug's full SHA, the tag resolved to it
        (SHA[:8], "v42", SHA, True),  # `Deploy 1a2b3c4d`
        (SHA[:6], "v42", SHA, False),  # too short to trust
        ("9f8e7d6c", "v42", SHA, False),  # another commit
        (SHA, SHA[:7], None, True),  # `ship deploy 1a2b3c4` of a pushed slug
        (SHA[:8], SHA, None, True),
        ("deadbeef", "v42", None, False),
    ],
)
def test_names_version(label: str | None, version: str, commit: str | None, names: bool) -> None:
    assert names_version(label, version, commit) is names


def test_identity_not_label_decides_same_code() -> None:
    """Two states run the same code only when both identities are known and equal: two
    unknowns are not "the same", and equal labels are not enough."""
    target = Target(Side.HEROKU, "acme-web")
    a = TargetState(target, Version("v1"), identity="slug:1")
    assert a.runs_same_code(TargetState(target, None, identity="slug:1"))
    assert not a.runs_same_code(TargetState(target, Version("v1"), identity="slug:2"))
    assert not TargetState(target, Version("v1")).runs_same_code(TargetState(target, Version("v1")))


def test_a_tag_resolves_to_its_commit_in_a_git_repository(tmp_path: Path) -> None:
    """`v7` names the commit it tags; a name git does not know, or no repository, is None."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tmp_path), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    (tmp_path / "app.rb").write_text("puts 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    git("tag", "v7")
    history = GitHistory(tmp_path)
    assert history.commit_of(Version("v7")) == git("rev-parse", "HEAD")
    assert history.commit_of(Version("v8")) is None
    assert history.commit_of(Version("--all")) is None
    assert GitHistory(tmp_path / "nowhere").commit_of(Version("v7")) is None


def test_changed_paths_come_from_git_diff(tmp_path: Path) -> None:
    """The paths between two versions, as `git diff --name-only` gives them; a version
    that would read as an option is never passed to git."""

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    who = ("-c", "user.name=t", "-c", "user.email=t@example.com")
    (tmp_path / "app.rb").write_text("puts 1\n")
    git("add", ".")
    git(*who, "commit", "-qm", "one")
    git("tag", "v1")
    (tmp_path / "db" / "migrate").mkdir(parents=True)
    (tmp_path / "db" / "migrate" / "001_add.rb").write_text("# add\n")
    git("add", ".")
    git(*who, "commit", "-qm", "two")
    git("tag", "v2")
    history = GitHistory(tmp_path)
    assert history.changed_paths(Version("v1"), Version("v2")) == ["db/migrate/001_add.rb"]
    assert history.changed_paths(Version("--output=x"), Version("v2")) is None
    assert history.changed_paths(Version("v1"), Version("v9")) is None


def test_one_line_results_name_a_pushed_sha_short() -> None:
    """The result line names what runs: a full SHA by 12 characters, names whole."""
    from shipper.core.model import Snapshot
    from shipper.core.sides import describe

    target = Target(Side.HEROKU, "acme-web")
    other = Target(Side.KUBERNETES, "deployment/web")
    snapshot = Snapshot((TargetState(target, Version(SHA)), TargetState(other, Version("v1"))))
    assert describe(snapshot) == f"{SHA[:12]} on 1 target, v1 on 1 target"
