"""What the build trusts: one build at a time, and a cache that is verified before it is used."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from briefings import bodies, cache, frozen, lock, sources, stages, write
from briefings.archive import GivenWay
from briefings.compiled import SealedBytecodeCache
from tests.conftest import REPO, SITE_YAML, briefing, build, run
from tests.test_content import parse
from tests.test_incremental import clean_build, tree

FILES = {f"2015/b{n}.md": briefing(f"Briefing {n}", f"2015-09-{n + 10}T10:00:00+03:00") for n in range(4)}


def errors_of(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(root, *args)
    return code, capsys.readouterr().err


def build_process(root: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(REPO / "build.py"), "--root", str(root), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_build_waits_for_the_first_and_both_leave_a_whole_site(archive, tmp_path: Path) -> None:
    root = archive(FILES)
    build(root)
    (root / "content/2015/b1.md").write_text(briefing("Edited while another build runs", "2015-09-11T10:00:00+03:00"))
    with lock.one_at_a_time(root, lambda: pytest.fail("nothing else holds the lock")):
        second = build_process(root)
        assert second.stderr is not None
        said = second.stderr.readline()  # observed state: the second build is waiting, not writing
        assert said == "Waiting for another build of this archive to finish...\n"
        assert second.poll() is None
    _, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_overlapping_builds_leave_the_site_a_clean_build_makes(archive, tmp_path: Path) -> None:
    root = archive(FILES)
    builds = [build_process(root, "--quiet") for _ in range(3)]
    for process in builds:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")
    assert run(root, "--quiet") == 0 and tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_planted_pickle_is_never_run(archive, tmp_path: Path) -> None:
    root = archive(FILES)
    build(root)
    proof = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (os.system, (f"touch {proof}",))

    for shard in (root / ".cache/records").glob("*.pickle"):
        shard.write_bytes(pickle.dumps(Payload()))
    # Even one with a valid seal (whoever can read .cache/key) builds only values, never calls a function.
    sealed = cache.Cache(root)
    sealed._save("related.pickle", None, Payload())
    (root / "content/2015/b2.md").write_text(briefing("Edited", "2015-09-12T10:00:00+03:00"))
    assert run(root, "--quiet") == 0
    assert not proof.exists()
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_cache_file_remakes_only_the_classes_marked_to_be_remade(tmp_path: Path) -> None:
    """`frozen.remade`, the one function a cache file may call, makes a briefing from its values
    and nothing else: even from a sealed file, another class is refused and the file said damaged."""
    sealed = cache.Cache(tmp_path)
    made, _ = parse(briefing())
    assert made is not None
    sealed._save("briefing.pickle", None, made)
    assert sealed._load("briefing.pickle", None) == made

    class Forged:
        def __reduce__(self) -> tuple[object, ...]:
            return (frozen.remade, (GivenWay, ("kind", "slug"), ("tags", "syria")))  # not marked

    sealed._save("forged.pickle", None, Forged())
    assert sealed._load("forged.pickle", None) is None
    assert sealed.damaged == [".cache/forged.pickle"]


def test_a_body_changed_in_the_store_is_not_published(
    archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = archive(FILES)
    build(root)
    with sqlite3.connect(root / ".cache/bodies.sqlite") as db:
        db.execute("UPDATE bodies SET html = html || '<script>alert(1)</script>'")
    (root / "templates/briefing.html").write_text((root / "templates/briefing.html").read_text() + "\n")
    code, err = errors_of(root, capsys, "build")
    assert code == 0, err
    assert "a stored body was changed outside the build: the cache was cleared" in err
    assert not any(b"<script>alert" in data for data in tree(root / "_site").values())
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_damaged_body_store_is_rebuilt_without_a_traceback(
    archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = archive(FILES)
    build(root)
    store = root / ".cache/bodies.sqlite"
    data = bytearray(store.read_bytes())
    data[4096 : 4096 * 2] = b"\xff" * 4096  # a damaged page, past the header
    store.write_bytes(bytes(data))
    (root / "templates/briefing.html").write_text((root / "templates/briefing.html").read_text() + "\n")
    for command in ("check", "build"):
        code, err = errors_of(root, capsys, command)
        assert code == 0, err
        assert "Traceback" not in err
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


@pytest.mark.parametrize("damage", ["cache is a file", "a cache file is a folder", "the store is a folder"])
def test_a_cache_in_the_wrong_shape_is_a_miss(archive, tmp_path: Path, damage: str) -> None:
    root = archive(FILES)
    build(root)
    if damage == "cache is a file":
        cache.Cache(root).clear()
        (root / ".cache").write_text("not a folder")
    else:
        name = "related.pickle" if damage == "a cache file is a folder" else "bodies.sqlite"
        (root / ".cache" / name).unlink()
        (root / ".cache" / name / "inside").mkdir(parents=True)
    (root / "content/2015/b0.md").write_text(briefing("Edited", "2015-09-10T10:00:00+03:00", tags="[Energy]"))
    assert run(root, "--quiet") == 0
    assert run(root, "check", "--quiet") == 0
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_planted_compiled_template_is_never_loaded(archive) -> None:
    root = archive(FILES)
    build(root)
    for compiled in (root / ".cache/templates").glob("*.cache"):
        compiled.write_bytes(b"\x00" * 40 + compiled.read_bytes()[40:])  # what Jinja would read as code
    (root / "content/2015/b0.md").write_text(briefing("Edited", "2015-09-10T10:00:00+03:00"))
    assert run(root, "--quiet") == 0
    assert "Edited" in (root / "_site/2015/09/b0/index.html").read_text()


def test_a_template_compiled_by_another_engine_is_compiled_again(tmp_path: Path) -> None:
    """How a template calls its filters is decided while compiling (a filter given the context
    is called with it): code compiled by an earlier engine is not run by a later one."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("{{ x | f }}")

    def render(engine: str, f: object) -> str:
        compiled = SealedBytecodeCache(tmp_path / "compiled", b"k" * 32, engine)
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), bytecode_cache=compiled)
        env.filters["f"] = f
        return env.get_template("page.html").render(x="a")

    assert render("engine 1", lambda value: value.upper()) == "A"
    assert render("engine 2", jinja2.pass_context(lambda context, value: value * 2)) == "aa"
    assert render("engine 2", jinja2.pass_context(lambda context, value: value * 3)) == "aaa"  # its own: reused


def test_a_full_disk_is_one_line_and_the_next_build_is_not_cold(
    archive, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = archive(FILES)
    twin = tmp_path / "twin"
    shutil.copytree(root, twin)
    build(root)
    build(twin)
    real = write._replace
    made: list[str] = []

    def full(file: str, data: bytes, held: bool) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), file)

    monkeypatch.setattr(write, "_replace", full)
    edited = briefing("Edited", "2015-09-10T10:00:00+03:00")
    (root / "content/2015/b0.md").write_text(edited)
    code, err = errors_of(root, capsys, "build", "--jobs", "1")
    assert code == 1
    first = err.splitlines()[0]
    cause = "No space left on device; free some space on that disk and build again"
    assert first.startswith("_site/") and first.endswith(f".html: cannot be written: {cause}")
    assert "Traceback" not in err
    assert not list((root / ".cache").glob("changing*"))  # no marker: the live site is still trusted
    monkeypatch.setattr(write, "_replace", lambda file, *rest: made.append(file) or real(file, *rest))
    assert run(root, "--quiet", "--jobs", "1") == 0
    after_failure = len(made)
    made.clear()
    (twin / "content/2015/b0.md").write_text(edited)
    assert run(twin, "--quiet", "--jobs", "1") == 0
    assert after_failure == len(made) < len(tree(root / "_site")) / 2  # what the edit makes, not the whole site


def test_a_killed_build_without_the_cache_leaves_no_temporary_folder_after_the_next(
    archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    root = archive(FILES)
    code = "import os, briefings.bodies as b\nwith b.body_store(None, 's', b's' * 32):\n    os.kill(os.getpid(), 9)"
    killed = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert killed.returncode == -signal.SIGKILL
    assert list(tmp_path.glob(f"{bodies.TEMPORARY_PREFIX}*"))
    assert run(root, "--quiet", "--no-cache") == 0
    assert list(tmp_path.glob(f"{bodies.TEMPORARY_PREFIX}*")) == []


@pytest.mark.parametrize("alias", ["/feed.xml/", "/favicon.svg/", "/sitemap.xml/", "/css/style.css/"])
def test_check_refuses_an_alias_onto_a_file_of_the_site(
    archive, capsys: pytest.CaptureFixture[str], alias: str
) -> None:
    root = archive({"2015/a.md": briefing(extra=f"aliases: ['{alias}']\n")})
    code, err = errors_of(root, capsys, "check")
    assert code == 1
    folder = alias.strip("/")
    assert f"content/2015/a.md:9: /{folder}/index.html needs /{folder} to be a folder, but it is a file" in err


def test_check_refuses_two_aliases_where_one_needs_the_other_as_a_folder(
    archive, capsys: pytest.CaptureFixture[str]
) -> None:
    root = archive({
        "2015/a.md": briefing("A", extra="aliases: ['/old/a.html']\n"),
        "2015/b.md": briefing("B", extra="aliases: ['/old/a.html/']\n"),
    })  # fmt: skip
    code, err = errors_of(root, capsys, "check")
    assert code == 1
    needs = "/old/a.html/index.html needs /old/a.html to be a folder, but it is a file (content/2015/a.md writes it)"
    assert f"content/2015/b.md:9: {needs}" in err


def test_check_refuses_a_slug_too_long_for_a_file_system(archive, capsys: pytest.CaptureFixture[str]) -> None:
    root = archive({"2015/a.md": briefing(extra=f"slug: {'a' * 300}\n")})
    code, err = errors_of(root, capsys, "check")
    assert code == 1
    assert f"content/2015/a.md:9: /2015/09/{'a' * 52}... has a name longer than 255 bytes" in err
    assert (root / "_site").exists() is False


@pytest.mark.parametrize(
    ("make", "where", "message"),
    [
        (lambda root: (root / "static/config.txt").symlink_to(root / ".git/config"), "static/config.txt",
         "is a link to a file outside static/; copy the file in"),
        (lambda root: (root / "static/outside.txt").symlink_to("/etc/hostname"), "static/outside.txt",
         "is a link to a file outside static/; copy the file in"),
        (lambda root: (root / "content/2016").symlink_to(root / "content/2015"), "content/2016",
         "is a link to a folder; make it a real folder"),
        (lambda root: os.mkfifo(root / "content/2015/pipe.md"), "content/2015/pipe.md",
         "is not a regular file; remove it or replace it with one"),
    ],
)  # fmt: skip
def test_links_out_of_their_folder_and_odd_files_are_errors(
    archive, capsys: pytest.CaptureFixture[str], make, where: str, message: str
) -> None:
    root = archive(FILES)
    (root / ".git").mkdir()
    (root / ".git/config").write_text('[http]\n\textraheader = "AUTHORIZATION: basic c2VjcmV0"\n')
    make(root)
    for command in ("check", "build"):
        code, err = errors_of(root, capsys, command)
        assert code == 1
        assert f"{where}: {message}" in err
    assert not (root / "_site").exists()


def test_the_listing_is_the_same_by_folder_and_by_whole_path(archive, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file's `lstat` is taken relative to its folder where the system allows it (one name
    for the kernel to look up), else by its whole path: both list the same files, links as links."""
    root = archive({**FILES, "2016/nested/deeper.md": briefing(title="Deeper")})
    (root / "content/2015/linked.md").symlink_to("b0.md")  # a link inside the folder: taken, as a link
    (root / "content/2015/chart.png").write_bytes(b"\x89PNG")
    by_folder = sources.walk(root, "content")
    monkeypatch.setattr(sources, "_AT_FOLDER", False)
    by_path = sources.walk(root, "content")
    assert by_folder[0] == by_path[0] and "content/2015/linked.md" in by_folder[0]
    assert list(map(cache.signature_of, by_folder[1])) == list(map(cache.signature_of, by_path[1]))
    assert [s.st_mode for s in by_folder[1]] == [s.st_mode for s in by_path[1]]
    assert sum(map(stat.S_ISLNK, (s.st_mode for s in by_folder[1]))) == 1
    assert not by_folder[2] and not by_path[2]


def test_an_unreadable_year_folder_is_an_error(archive, capsys: pytest.CaptureFixture[str]) -> None:
    root = archive(FILES)
    folder = root / "content/2015"
    if os.geteuid() == 0:  # root reads any folder: stand in with the error listing it gets
        real = os.listdir

        def listdir(path):  # type: ignore[no-untyped-def]
            if os.fspath(path) == str(folder):
                raise PermissionError(errno.EACCES, "Permission denied", str(folder))
            return real(path)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "listdir", listdir)
            code, err = errors_of(root, capsys, "check")
        assert real is os.listdir
    else:
        folder.chmod(0)
        try:
            code, err = errors_of(root, capsys, "check")
        finally:
            folder.chmod(0o755)
    assert code == 1
    assert "content/2015: cannot be read (Permission denied); fix its permissions" in err


def test_the_deploy_job_restores_only_what_deploys_saved() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/pages.yml").read_text())
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/cache"):
                keys = [step["with"]["key"], *str(step["with"].get("restore-keys", "")).splitlines()]
                prefix = "briefings-deploy-" if name == "deploy" else "briefings-check-"
                assert all(key.startswith(prefix) for key in keys), (name, keys)
                if ".cache/records" in step["with"]["path"]:  # without the key, nothing restored passes its seal
                    assert ".cache/key" in step["with"]["path"]


@pytest.mark.parametrize("url", ['https://example.org/a"b/', "https://example.org/<x>/", "https://example.org/a b/",
                                 "https://example.org/\u202eevil/"])  # fmt: skip
def test_a_base_url_a_feed_could_not_carry_raw_is_an_error_at_its_line(
    archive, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    root = archive(FILES, SITE_YAML.replace("base_url: https://example.org/", f"base_url: '{url}'"))
    code, err = errors_of(root, capsys, "check")
    assert code == 1
    assert err.startswith("site.yaml:3: base_url: ") and "which a URL may not; percent-encode it" in err


def test_a_flipped_byte_in_a_cached_record_is_said_and_never_published(
    archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = archive(FILES)
    build(root)
    shard = next((root / ".cache/records").glob("*.pickle"))
    data = bytearray(shard.read_bytes())
    at = data.index(b"Briefing 2")
    data[at] = ord("X")  # a wrong title, were it trusted
    shard.write_bytes(bytes(data))
    # Settings the model is made from: it is made again from every record (the kept one holds its briefings).
    (root / "site.yaml").write_text((root / "site.yaml").read_text().replace("per_page: 3", "per_page: 4"))
    code, err = errors_of(root, capsys, "build")
    assert code == 0
    assert err.count("\n") == 1 and err.startswith(".cache/records/")
    assert "damaged or not written by this build: the cache was cleared and the build runs again" in err
    assert not any(b"Xriefing 2" in page for page in tree(root / "_site").values())
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_damaged_file_of_changes_beside_the_output_state_is_said_and_the_state_not_trusted(
    archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The output state without its file of changes would be an older one, which the spare folder
    no longer matches: a damaged file of changes makes the whole state a miss."""
    root = archive({f"2015/b{n}.md": briefing(f"Briefing {n}", f"2015-09-{n % 28 + 1:02d}T10:00:00+03:00")
                    for n in range(60)})  # fmt: skip
    build(root)
    target = root / "content/2015/b7.md"
    for body in ("First.", "Second.", "Third."):
        target.write_text(briefing("Briefing 7", "2015-09-08T10:00:00+03:00", body=body))
        build(root)
    changes = root / ".cache/outputs_site.since.pickle"
    data = bytearray(changes.read_bytes())
    data[-20] ^= 1
    changes.write_bytes(bytes(data))
    target.write_text(briefing("Briefing 7", "2015-09-08T10:00:00+03:00", body="First."))
    code, err = errors_of(root, capsys, "build")
    assert code == 0
    assert err.startswith(".cache/outputs_site.since.pickle: damaged or not written by this build, so ignored")
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_a_cache_an_earlier_version_wrote_is_a_silent_miss(archive, capsys: pytest.CaptureFixture[str]) -> None:
    root = archive(FILES)
    build(root)
    for shard in [*(root / ".cache/records").glob("*.pickle"), root / ".cache/records.pickle"]:
        shard.write_bytes(pickle.dumps(("an older engine", None, {})))  # what versions before seals wrote
    code, err = errors_of(root, capsys, "check")
    assert (code, err) == (0, "")


def test_cached_records_are_used_again_whatever_their_time_zone(
    archive, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Dates without an offset are read in site.yaml's zone: a ZoneInfo, which pickle rebuilds by a getattr.
    root = archive({f"2015/b{n}.md": briefing(f"B{n}", f"2015-09-{n + 10} 10:00") for n in range(3)})
    build(root)
    parsed: list[str] = []
    real = stages._parse
    monkeypatch.setattr(stages, "_parse", lambda p, r, path, d: parsed.append(path) or real(p, r, path, d))
    (root / "templates/base.html").write_text((root / "templates/base.html").read_text() + "\n")
    code, err = errors_of(root, capsys, "build")
    assert (code, err, parsed) == (0, "", [])


def test_a_sealed_file_may_not_reach_a_function_through_getattr(archive) -> None:
    root = archive(FILES)
    build(root)

    class Reach:
        def __reduce__(self) -> tuple[object, ...]:
            return (getattr, (cache.Cache, "clear"))

    sealed = cache.Cache(root)
    sealed._save("related.pickle", None, Reach())
    assert sealed.recall("related", None) is None
    assert sealed.damaged == [".cache/related.pickle"]


@settings(max_examples=300)
@given(st.lists(st.text(alphabet="ab/-.", min_size=1, max_size=6), max_size=12))
def test_a_folder_that_is_a_file_is_found_as_path_by_path(paths: list[str]) -> None:
    def folders(path: str) -> list[str]:
        parts = path.split("/")
        return ["/".join(parts[:depth]) for depth in range(1, len(parts))]

    assert write._folder_is_a_file(set(paths)) == any(f in paths for path in paths for f in folders(path))


def reads_noted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Return the list that the name of each cache file read from now on is added to."""
    read: list[str] = []
    read_sealed = cache._read_sealed

    def noted(folder: Path, key: bytes, name: str) -> object:
        read.append(name)
        return read_sealed(folder, key, name)

    monkeypatch.setattr(cache, "_read_sealed", noted)
    return read


def test_cache_files_read_ahead_are_those_the_last_build_loaded_and_used_only_while_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build reads ahead, in a thread, the files the last one loaded after that point, in its
    order (a slot's file by its slot: the one there now); it uses what was read only while the
    file is the one read, and anything but a sound read is read again and dealt with as ever."""
    monkeypatch.setattr(cache, "READ_AHEAD_FROM", 1)  # (files of a few bytes)
    last = cache.Cache(tmp_path)
    last._save("a.pickle", None, "a")
    last._save("b.pickle", None, "b")
    last.remember_for("model", b"1" * 16, "model 1")
    assert last.read_ahead() == []  # the first build: nothing to read ahead, what it loads noted
    assert last._load("b.pickle", None) == "b"
    assert last.recall_for("model", b"1" * 16) == "model 1"
    assert last._load("a.pickle", None) == "a"
    assert last._load("gone.pickle", None) is None
    last.keep_load_order()
    last.remember_for("model", b"2" * 16, "model 2")  # the slot's file is another now

    this = cache.Cache(tmp_path)
    assert this.read_ahead() == ["b.pickle", f"model-{(b'2' * 16).hex()}.pickle", "a.pickle"]
    this.finish_reading_ahead()
    this._save("a.pickle", None, "a, written since it was read ahead")
    read_here = reads_noted(monkeypatch)  # the thread's reads are done: these are this thread's
    assert this._load("b.pickle", None) == "b"
    assert this.recall_for("model", b"2" * 16) == "model 2"
    assert this._load("a.pickle", None) == "a, written since it was read ahead"
    assert read_here == ["a.pickle"]
    assert this._load("b.pickle", None) == "b"  # each read ahead is taken once
    assert read_here == ["a.pickle", "b.pickle"]

    this.keep_load_order()
    damaged = tmp_path / ".cache/b.pickle"
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"!")
    after = cache.Cache(tmp_path)
    assert "b.pickle" in after.read_ahead()
    after.finish_reading_ahead()
    assert after._load("b.pickle", None) is None
    assert after.damaged == [".cache/b.pickle"]

    [model] = (tmp_path / ".cache").glob("model-*.pickle")
    model.unlink()
    model.symlink_to(tmp_path / "nowhere")  # the slot's one file, but nothing to read
    assert cache.Cache(tmp_path).read_ahead() == ["b.pickle", "a.pickle"]

    monkeypatch.setattr(cache, "READ_AHEAD_FROM", 1_000_000)
    few = cache.Cache(tmp_path)
    assert few.read_ahead() == []  # fewer bytes than a thread is worth: each file is read where it is loaded
    assert few._load("a.pickle", None) == "a, written since it was read ahead"


def test_no_thread_reads_ahead_when_a_build_forks(archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread that reads cache files ahead has ended before the build's first fork (here the
    pool that parses seventy edited files): a child starts with the parent's one thread."""
    dates = (f"2015-09-{10 + n // 10}T10:{n % 10:02d}:00+03:00" for n in range(70))
    files = {f"2015/b{n:02d}.md": briefing(f"Briefing {n}", date) for n, date in enumerate(dates)}
    root = archive(files)
    build(root, "--jobs", "2")
    for name in files:  # every file edited: more than a pool is started for (`workers.MIN_PARALLEL`)
        path = root / "content" / name
        path.write_text(path.read_text().replace("Body text.", "Edited body text."))
    # The thread is held at a file loaded only once the site is written, until the build ends it
    # or a fork finds it still there.
    released, alive_at_fork = threading.Event(), []
    read_sealed, finish = cache._read_sealed, cache.Cache.finish_reading_ahead

    def held(folder: Path, key: bytes, name: str) -> object:
        if name == "outputs_site.pickle":
            released.wait()
        return read_sealed(folder, key, name)

    def finished(self: cache.Cache) -> None:
        released.set()
        finish(self)

    def before_fork() -> None:
        if WATCHING and any(thread.name == "briefings-read-ahead" for thread in threading.enumerate()):
            alive_at_fork.append(True)
            released.set()

    monkeypatch.setattr(cache, "READ_AHEAD_FROM", 1)  # (a small archive's cache)
    monkeypatch.setattr(cache, "_read_sealed", held)
    monkeypatch.setattr(cache.Cache, "finish_reading_ahead", finished)
    os.register_at_fork(before=before_fork)  # (for the rest of this process: it looks only while WATCHING)
    WATCHING.append(True)
    try:
        assert "outputs_site.pickle" in cache.Cache(root)._load(cache.LOAD_ORDER, None)  # what the build reads ahead
        build(root, "--jobs", "2")
    finally:
        WATCHING.clear()
        released.set()
    assert alive_at_fork == []
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


WATCHING: list[bool] = []  # while not empty, the fork hooks of the tests above and below look for their thread


def test_no_thread_reads_the_stored_digests_when_a_build_forks(
    archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread that reads the body store's digests ahead (`BodyStore.read_digests_ahead`) has
    ended before the build's first fork, even where they are not asked for (here a records'
    index the build cannot use: every file is parsed, in a pool)."""
    dates = (f"2015-09-{10 + n // 10}T10:{n % 10:02d}:00+03:00" for n in range(70))  # (a pool: `MIN_PARALLEL`)
    files = {f"2015/b{n:02d}.md": briefing(f"Briefing {n}", date) for n, date in enumerate(dates)}
    root = archive(files)
    build(root, "--jobs", "2")
    edited = root / "content" / "2015" / "b00.md"
    edited.write_text(edited.read_text().replace("Body text.", "Edited body text."))
    released, alive_at_fork, asked = threading.Event(), [], []
    run_thread, finish = bodies._DigestsRead.run, bodies.BodyStore.finish_reading_ahead

    def held(self: bodies._DigestsRead) -> None:  # until the build ends it, or a fork finds it there
        released.wait()
        run_thread(self)

    def finished(self: bodies.BodyStore) -> None:
        asked.append(True)
        released.set()
        finish(self)

    def before_fork() -> None:
        if WATCHING and any(thread.name == "briefings-body-digests" for thread in threading.enumerate()):
            alive_at_fork.append(True)
            released.set()

    def unusable(rows: object, paths: list[str], missing: Any) -> tuple[list[Any], Any]:
        return [missing] * len(paths), {}.keys()  # (so the stored digests are not asked for)

    monkeypatch.setattr(stages, "summaries_from", unusable)
    monkeypatch.setattr(bodies._DigestsRead, "run", held)
    monkeypatch.setattr(bodies.BodyStore, "finish_reading_ahead", finished)
    os.register_at_fork(before=before_fork)
    WATCHING.append(True)
    try:
        build(root, "--jobs", "2")
    finally:
        WATCHING.clear()
        released.set()
    assert asked and alive_at_fork == []
    assert tree(root / "_site") == clean_build(root, tmp_path / "clean")


def test_cache_files_loaded_early_are_used_only_while_unchanged_and_for_the_settings_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `load_early` loaded (a slot's one file, by its glob) is what `_load` gives later, once,
    if the file is unchanged since and was kept with the settings asked for (asked with others, it
    is a miss, and stays for a load with them); a file written since is loaded again, and one that
    cannot be loaded early is left to `_load`, which says why. The thread reading ahead does not
    read again what was loaded early. `let_go_early` lets go of the files a glob names, or all, as
    `keep_load_order` does as a build ends."""
    monkeypatch.setattr(cache, "READ_AHEAD_FROM", 1)  # (files of a few bytes)
    last = cache.Cache(tmp_path)
    last.remember_for("model", b"1" * 16, "model 1")
    last._save("index.pickle", "settings", "index")
    last._save("other.pickle", None, "other")
    last.read_ahead()
    for name in ("index.pickle", "other.pickle"):
        last._load(name, None)
    last.recall_for("model", b"1" * 16)
    last.keep_load_order()
    last._save("damaged.pickle", None, "damaged")
    damaged = tmp_path / ".cache/damaged.pickle"
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"!")

    this = cache.Cache(tmp_path)
    this.load_early("model-*.pickle", "index.pickle", "damaged.pickle", "gone.pickle")
    assert set(this._early) == {f"model-{(b'1' * 16).hex()}.pickle", "index.pickle"}
    assert this.damaged == []  # (not said twice: `_load` says it)
    assert this.read_ahead() == ["other.pickle"]
    this.finish_reading_ahead()
    this._save("index.pickle", "settings", "index, written since")
    assert this.recall_for("model", b"1" * 16) == "model 1"
    assert this._load("index.pickle", "settings") == "index, written since"
    assert this._load("damaged.pickle", None) is None
    assert this.damaged == [".cache/damaged.pickle"]
    assert this._early == {}  # each taken once

    other = cache.Cache(tmp_path)
    other.load_early("model-*.pickle", "index.pickle", "other.pickle")
    assert other._load("index.pickle", "other settings") is None  # kept with other settings: a miss, as ever
    assert "index.pickle" in other._early  # ... and kept for a load that asks with them
    assert other.recall_for("model", b"2" * 16) is None  # (another file of the slot: not loaded early)
    other.let_go_early("model-*.pickle")  # the model's alone
    assert set(other._early) == {"index.pickle", "other.pickle"}
    assert other._load("index.pickle", "settings") == "index, written since"
    other.keep_load_order()  # as a build ends: what no load took is let go
    assert other._early == {}
    assert other.recall_for("model", b"1" * 16) == "model 1"  # loaded where asked, as ever


def test_loading_early_stops_when_asked_keeping_nothing_of_the_file_it_was_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`load_early` asks `until` as it reads each value (a frame at a time): once it is True it
    stops, keeps what it loaded before that file and nothing of it, and says it stopped."""
    last = cache.Cache(tmp_path)
    last._save("a.pickle", None, "small")
    last._save("b.pickle", None, [str(n) * 10 for n in range(100_000)])  # (many 64 KB frames)
    last._save("c.pickle", None, "never reached")
    read = reads_noted(monkeypatch)
    asked: list[str] = []

    def until() -> bool:
        asked.append(read[-1])
        return asked.count("b.pickle") > 5  # in the middle of b's value

    this = cache.Cache(tmp_path)
    assert this.load_early("a.pickle", "b.pickle", "c.pickle", until=until) is False
    assert set(this._early) == {"a.pickle"}
    assert read == ["a.pickle", "b.pickle"]
    assert len(this._stopped) == 1  # what b's load had made is freed with the rest, not as it stops
    assert this._load("b.pickle", None) == [str(n) * 10 for n in range(100_000)]  # loaded where asked, whole
    assert this.load_early("c.pickle", until=lambda: False) is True
    assert set(this._early) == {"a.pickle", "c.pickle"}
    this.let_go_early()
    assert (this._early, this._stopped) == ({}, [])

    def failing() -> bool:
        raise OSError("the child's end")

    assert cache.Cache(tmp_path).load_early("a.pickle", until=failing) is True  # (said where it is asked)
