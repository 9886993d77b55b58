"""interp-audit survey: throwaway environments, executors (local, Dask), resuming, shards, lists.

Offline surveys install fixture wheels built here into a local wheel directory
(``--find-links DIR --no-index``); one survey installs real packages from PyPI.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import fixturelib
from interp_audit.reports.json import SCHEMA_PATH
from interp_audit.reports.merge import outcome
from interp_audit.survey import lists
from interp_audit.survey.environments import InstallSpec, PipMaker, UvMaker
from interp_audit.survey.shard import ShardError, parse_shard, select, shard_of
from interp_audit.survey.task import SurveyTask, run_task

PYTHONS = fixturelib.target_pythons()
NEWEST = PYTHONS[-1] if PYTHONS else None
needs_python = pytest.mark.skipif(not PYTHONS and os.environ.get("CI", "").lower() != "true",
                                  reason="no CPython >= 3.12 found")
FIXTURES = ["ia-fixture-pure", "ia-fixture-single", "ia-fixture-segv", "ia-fixture-blocked"]
MISSING = "ia-fixture-does-not-exist"


def interp_audit(*args, cwd, check=True, **kwargs) -> subprocess.CompletedProcess:
    completed = subprocess.run([sys.executable, "-m", "interp_audit", *map(str, args)], cwd=cwd,
                               capture_output=True, text=True, **kwargs)
    if check and completed.returncode != 0:
        raise AssertionError(f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}")
    return completed


def version_of(python: str) -> str:
    """Full version, as results record it (e.g. 3.13.0)."""
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def python_args(pythons) -> list[str]:
    return [arg for python in pythons for arg in ("--python", python)]


def write_list(path: Path, names) -> Path:
    path.write_text("# a test list\n" + "\n".join(names) + "\n")
    return path


def results_of(out_dir: Path) -> dict[tuple[str, str], dict]:
    """(distribution, Python version) -> result dict, over the JSON files of a survey directory."""
    found = {}
    for path in sorted(out_dir.glob("*.json")):
        run = json.loads(path.read_text())["interpreters"][0]
        for result in run["distributions"]:
            key = (result["name"], run["python"]["version"])
            assert key not in found, f"{key} twice"
            found[key] = result
    return found


def store_rows(store: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(store)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


@pytest.fixture(scope="session")
def wheel_dir(tmp_path_factory) -> Path:
    """Wheels of a few fixture projects for every target Python, in one --find-links directory."""
    if not PYTHONS:
        pytest.fail("no CPython >= 3.12 found")
    out = tmp_path_factory.mktemp("wheels")
    for python in PYTHONS:
        for name in FIXTURES:
            fixturelib.build_wheel(python, fixturelib.corpus_spec(name), out)
    return out


def offline(wheel_dir: Path) -> list[str]:
    return ["--find-links", str(wheel_dir), "--no-index", "--timeout", "10", "--no-smoke"]


# --------------------------------------------------------------------------- shards and lists


def test_shards_split_the_list_deterministically():
    names = [f"project-{i}" for i in range(200)]
    shards = [select(names, k, 4) for k in range(1, 5)]
    assert sorted(sum(shards, [])) == sorted(names)  # every name in exactly one shard
    assert all(shards)  # and the split is not degenerate
    assert select(list(reversed(names)), 2, 4) == list(reversed(shards[1]))  # order does not matter
    assert shard_of("Foo_Bar", 7) == shard_of("foo-bar", 7) == shard_of("FOO.bar", 7)  # nor spelling
    assert shard_of("numpy", 4) == shard_of("numpy", 4)
    # a stable hash, not Python's randomised one: the same in another interpreter process
    other = subprocess.run([sys.executable, "-c", "from interp_audit.survey.shard import shard_of; "
                            "print([shard_of(f'project-{i}', 4) for i in range(20)])"],
                           capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout.strip() == str([shard_of(f"project-{i}", 4) for i in range(20)])
    assert select(names, 1, 1) == names
    for bad in ("0/3", "4/3", "x", "1/0", "1-3"):
        with pytest.raises(ShardError):
            parse_shard(bad)


def test_shipped_default_list_is_dated_and_large():
    path = lists.default_list(extra_dir=Path("/nonexistent"))
    assert lists.LIST_PATTERN.fullmatch(path.name)
    names = lists.read_list(path)
    assert len(names) >= 300
    assert {"numpy", "requests", "six", "boto3"} <= set(names)


def test_refresh_list_from_a_ranking(tmp_path):
    ranking = {"last_update": "2031-02-03 04:05:06", "rows": [
        {"project": "beta", "download_count": 50}, {"project": "alpha", "download_count": 90},
        {"project": "gamma", "download_count": 10}]}
    source = tmp_path / "top.json"
    source.write_text(json.dumps(ranking))
    lists_dir = tmp_path / "lists"
    done = interp_audit("survey", "--refresh-list", source, "--top", 2, "--list-dir", lists_dir, cwd=tmp_path)
    written = lists_dir / "top-pypi-2031-02-03.txt"
    assert str(written) in done.stderr
    assert lists.read_list(written) == ["alpha", "beta"]
    assert lists.default_list(extra_dir=lists_dir) == written  # newer than the shipped list: the new default
    table = tmp_path / "ranked.tsv"
    table.write_text("name\tversion\trank_among_15000_most_downloaded\nzeta\t1\t2\nunranked\t1\t\neta\t1\t1\n")
    assert lists.ranked_names(table.read_text(), str(table)) == (["eta", "zeta"], None)
    bad = interp_audit("survey", "--refresh-list", tmp_path / "missing.json", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "missing.json" in bad.stderr and "Traceback" not in bad.stderr


def test_usage_errors_are_one_line(tmp_path):
    bad_list = write_list(tmp_path / "bad.txt", ["fine", "not a name!"])
    for args, words in [
        (["survey", bad_list, "-o", tmp_path / "o"], "not a project name"),
        (["survey", "--shard", "5/4", "-o", tmp_path / "o"], "--shard"),
        (["survey", bad_list], "-o/--output"),
        (["survey", "--python", "/no/such/python", "-o", tmp_path / "o"], "/no/such/python"),
    ]:
        done = interp_audit(*args, cwd=tmp_path, check=False)
        assert done.returncode == 2, done.stderr
        assert words in done.stderr and "Traceback" not in done.stderr


def test_dask_executor_without_dask_says_how_to_install(tmp_path):
    code = ("import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
            "from interp_audit._cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code, "survey", "--executor", "dask", "--python", sys.executable,
                           "-o", str(tmp_path / "o"), str(write_list(tmp_path / "l.txt", ["six"]))],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert "pip install 'interp-audit[dask]'" in done.stderr and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- environments


@needs_python
@pytest.mark.parametrize("maker", [UvMaker, PipMaker], ids=["uv", "pip"])
def test_environment_makers_install_wheels_only(maker, wheel_dir, tmp_path):
    python = maker().create(NEWEST, tmp_path / "env", 60)
    spec = InstallSpec(find_links=(str(wheel_dir),), no_index=True, timeout=120)
    maker().install(python, "ia-fixture-blocked", spec)  # pulls its dependency from the same directory
    installed = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                                "print(sorted(d.metadata['Name'] for d in m.distributions()))"],
                               capture_output=True, text=True, check=True).stdout
    assert "ia-fixture-blocked" in installed and "ia-fixture-single" in installed


BACKEND = '''\
"""A build backend with no requirements, so the sdist builds offline."""
import base64, hashlib, zipfile

NAME, VERSION = "ia_sdist_only", "1.0"
INFO = f"{NAME}-{VERSION}.dist-info"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {
        "ia_sdist_only.py": b"VALUE = 1\\n",
        f"{INFO}/METADATA": b"Metadata-Version: 2.1\\nName: ia-sdist-only\\nVersion: 1.0\\n",
        f"{INFO}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = [f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}"
              for p, d in files.items()] + [f"{INFO}/RECORD,,"]
    files[f"{INFO}/RECORD"] = ("\\n".join(record) + "\\n").encode()
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(f"{wheel_directory}/{name}", "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return name
'''


def build_sdist(out: Path) -> Path:
    """A real sdist (tar.gz with PKG-INFO, pyproject.toml and an in-tree backend) and no wheel."""
    import io
    import tarfile

    out.mkdir(parents=True, exist_ok=True)
    members = {
        "PKG-INFO": "Metadata-Version: 2.1\nName: ia-sdist-only\nVersion: 1.0\n",
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": BACKEND,
        "ia_sdist_only.py": "VALUE = 1\n",
    }
    path = out / "ia_sdist_only-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"ia_sdist_only-1.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@needs_python
def test_sdists_only_with_allow_sdist(tmp_path, installer="uv"):
    build_sdist(tmp_path / "sdists")
    spec = dict(find_links=(str(tmp_path / "sdists"),), no_index=True, timeout=120)
    task = dict(project="ia-sdist-only", python=NEWEST, executable=NEWEST, installer=installer, smoke=False)
    wheels_only = run_task(SurveyTask(**task, install=InstallSpec(**spec)))
    assert wheels_only.status == "install-failed"
    built = run_task(SurveyTask(**task, install=InstallSpec(**spec, allow_sdist=True)))
    assert built.status == "scanned", built.message
    assert [(r["name"], r["version"], r["tier"]) for r in built.results] == [("ia-sdist-only", "1.0", "own-gil")]


# --------------------------------------------------------------------------- real packages from PyPI


@needs_python
def test_survey_of_real_packages_and_a_missing_one(tmp_path):
    """Network to PyPI: three small real projects and a name that does not exist, on every target Python."""
    names = ["six", "idna", "markupsafe", "interp-audit-no-such-project-xyz"]
    out = tmp_path / "results"
    done = interp_audit("survey", write_list(tmp_path / "l.txt", names), *python_args(PYTHONS), "-o", out,
                        "-j", 2, "--no-smoke", cwd=tmp_path)
    found = results_of(out)
    versions = {version_of(p) for p in PYTHONS}
    assert {python for _, python in found} == versions
    assert len(found) == len(names) * len(PYTHONS)
    for python in versions:
        for name in ("six", "idna", "MarkupSafe"):
            result = found[(name, python)]
            assert result["version"] and result["tier"] in ("own-gil", "shared-gil", "legacy-only")
        missing = found[("interp-audit-no-such-project-xyz", python)]
        assert missing["tier"] is None and missing["version"] == ""
        assert missing["problems"][0].startswith("install failed: ")
    assert "install failed" in done.stderr and f"{len(PYTHONS) * 3} scanned" in done.stderr
    # wall time and throughput, for the record of a long survey
    assert re.search(rf"Ran {len(names) * len(PYTHONS)} task\(s\) in [\d.]+ min: [\d.]+ per minute; per task: "
                     r"create [\d.]+ s, install [\d.]+ s, scan [\d.]+ s", done.stderr), done.stderr
    statuses = store_rows(out / "survey.sqlite3", "SELECT project, status FROM survey_tasks")
    assert sorted(s for p, s in statuses if p.startswith("interp-audit-")) == ["install-failed"] * len(PYTHONS)
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text())
    for path in out.glob("*.json"):  # install failures too are valid result files
        jsonschema.validate(json.loads(path.read_text()), schema)
    merged = json.loads(interp_audit("report", *sorted(out.glob("*.json")), "--format", "json", cwd=tmp_path).stdout)
    assert sum(len(run["distributions"]) for run in merged["interpreters"]) == len(found)


# --------------------------------------------------------------------------- executors


def comparable(found: dict) -> dict:
    return {key: (r["version"], outcome_of(r)) for key, r in found.items()}


def outcome_of(result: dict):
    from interp_audit.model import DistributionResult, from_dict

    return outcome(from_dict(DistributionResult, result))


@pytest.fixture
def cluster():
    """A real dask.distributed LocalCluster of 2 worker processes (1 thread each)."""
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield local
    finally:
        local.close()


@needs_python
def test_dask_cluster_rows_equal_local_rows(wheel_dir, cluster, tmp_path):
    names = ["ia-fixture-pure", "ia-fixture-single", "ia-fixture-segv", MISSING]
    listing = write_list(tmp_path / "l.txt", names)
    common = [listing, *python_args(PYTHONS), *offline(wheel_dir), "-j", 2]
    interp_audit("survey", *common, "-o", tmp_path / "local", cwd=tmp_path)
    done = interp_audit("survey", *common, "-o", tmp_path / "dask", "--executor", "dask",
                        "--scheduler", cluster.scheduler_address, cwd=tmp_path)
    assert "dask executor" in done.stderr
    local, remote = results_of(tmp_path / "local"), results_of(tmp_path / "dask")
    assert len(local) == len(names) * len(PYTHONS)
    assert comparable(local) == comparable(remote)
    for (name, python), result in remote.items():
        expected = fixturelib.EXPECTED.get(name)
        if expected:  # the segv fixture aborts its probe processes: recorded, nothing else disturbed
            assert result["tier"] == expected["tier"], (name, python)
            assert set(expected["flags"]) <= set(result["flags"])
        else:
            assert result["tier"] is None and result["problems"][0].startswith("install failed:")


def worker_pids(address: str) -> set[int]:
    from distributed import Client

    with Client(address, timeout="20s") as client:
        return set(client.run(os.getpid).values())


def scan_processes(project: str):
    """The ``interp_audit scan`` processes of ``project`` running now."""
    import psutil

    for process in psutil.process_iter(["pid", "ppid", "cmdline"]):
        argv = process.info["cmdline"] or []
        if "scan" in argv and "interp_audit" in argv and project in argv:
            yield process


class Killer(threading.Thread):
    """Kills the process running ``project``'s scan task from outside: its parent (the worker) or
    the task process itself, ``times`` times (each time a new scan of it starts)."""

    def __init__(self, project: str, times: int, pick) -> None:
        super().__init__(daemon=True)
        self.project, self.times, self.pick = project, times, pick
        self.kills: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and len(self.kills) < self.times:
            for process in scan_processes(self.project):
                victim = self.pick(process)
                if victim and victim not in self.kills:
                    os.kill(victim, signal.SIGKILL)
                    self.kills.append(victim)
                    break
            time.sleep(0.05)


def run_with_killer(killer: Killer, *args, cwd) -> subprocess.CompletedProcess:
    killer.start()
    try:
        return interp_audit(*args, cwd=cwd, timeout=240)
    finally:
        killer.stop.set()
        killer.join()


@needs_python
def test_dask_worker_killed_mid_task_is_retried(wheel_dir, cluster, tmp_path):
    workers = worker_pids(cluster.scheduler_address)
    killer = Killer("ia-fixture-single", 1, lambda scan: scan.info["ppid"] if scan.info["ppid"] in workers else None)
    out = tmp_path / "out"
    done = run_with_killer(killer, "survey", write_list(tmp_path / "l.txt", ["ia-fixture-single", "ia-fixture-pure"]),
                           "--python", NEWEST, *offline(wheel_dir), "-o", out, "--executor", "dask",
                           "--scheduler", cluster.scheduler_address, cwd=tmp_path)
    assert len(killer.kills) == 1, "the worker was never killed"
    found = results_of(out)  # each project exactly once
    assert [r["tier"] for (name, _), r in sorted(found.items())] == ["own-gil", "legacy-only"]
    tasks = dict(store_rows(out / "survey.sqlite3", "SELECT project, attempts FROM survey_tasks"))
    assert tasks == {"ia-fixture-single": 2, "ia-fixture-pure": 1}
    assert store_rows(out / "survey.sqlite3", "SELECT distribution, count(*) FROM run_results GROUP BY 1") == \
        [("ia-fixture-pure", 1), ("ia-fixture-single", 1)]
    assert "1 retry after a lost worker" in done.stderr


@needs_python
def test_dask_task_that_keeps_killing_workers_is_recorded(wheel_dir, tmp_path):
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        address = local.scheduler_address
        killer = Killer("ia-fixture-single", 5,
                        lambda scan: scan.info["ppid"] if scan.info["ppid"] in worker_pids(address) else None)
        out = tmp_path / "out"
        done = run_with_killer(killer, "survey",
                               write_list(tmp_path / "l.txt", ["ia-fixture-single", "ia-fixture-pure"]),
                               "--python", NEWEST, *offline(wheel_dir), "-o", out, "--executor", "dask",
                               "--scheduler", address, cwd=tmp_path)
    finally:
        local.close()
    assert len(killer.kills) == 2  # allowed-failures 1: two tries, then the scheduler gives up
    found = results_of(out)
    lost = next(r for (name, _), r in found.items() if name == "ia-fixture-single")
    assert lost["tier"] is None and lost["problems"][0].startswith("worker lost: its worker died 2 times")
    assert next(r for (name, _), r in found.items() if name == "ia-fixture-pure")["tier"] == "own-gil"
    assert sorted(store_rows(out / "survey.sqlite3", "SELECT project, status, attempts FROM survey_tasks")) == \
        [("ia-fixture-pure", "scanned", 1), ("ia-fixture-single", "worker-lost", 2)]
    assert "1 worker-lost" in done.stderr and done.returncode == 0


@needs_python
def test_local_task_process_killed_is_retried(wheel_dir, tmp_path):
    killer = Killer("ia-fixture-pure", 1, lambda scan: scan.info["ppid"])  # the task process runs the scan
    out = tmp_path / "out"
    run_with_killer(killer, "survey", write_list(tmp_path / "l.txt", ["ia-fixture-pure"]), "--python", NEWEST,
                    *offline(wheel_dir), "-o", out, cwd=tmp_path)
    assert len(killer.kills) == 1
    assert [r["tier"] for r in results_of(out).values()] == ["own-gil"]
    assert store_rows(out / "survey.sqlite3", "SELECT status, attempts FROM survey_tasks") == [("scanned", 2)]


# --------------------------------------------------------------------------- resuming and shards


def finished_tasks(store: Path) -> int:
    try:
        return store_rows(store, "SELECT count(*) FROM survey_tasks")[0][0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@needs_python
def test_killed_survey_resumes_without_redoing_finished_projects(wheel_dir, tmp_path):
    names = ["ia-fixture-pure", "ia-fixture-single", "ia-fixture-blocked"]
    out = tmp_path / "out"
    args = [sys.executable, "-m", "interp_audit", "survey", str(write_list(tmp_path / "l.txt", names)),
            "--python", NEWEST, *offline(wheel_dir), "-o", str(out), "-j", "1"]
    client = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    store = out / "survey.sqlite3"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not finished_tasks(store):
        time.sleep(0.1)
    os.killpg(client.pid, signal.SIGKILL)  # the client and its task processes, mid-survey
    client.wait()
    first = {row[0] for row in store_rows(store, "SELECT project FROM survey_tasks")}
    assert 1 <= len(first) < len(names)
    done = interp_audit(*args[3:], cwd=tmp_path)
    assert f"{len(first)} were already done (resumed survey 1)" in done.stderr
    for name in first:
        assert name not in done.stderr.split("were already done")[0]  # not redone
    assert store_rows(store, "SELECT count(*), count(finished) FROM surveys") == [(1, 1)]
    assert sorted(store_rows(store, "SELECT distribution, count(*) FROM run_results GROUP BY 1")) == \
        sorted((name, 1) for name in names)
    assert len(results_of(out)) == len(names)


@needs_python
def test_shards_cover_the_list_and_merge(wheel_dir, tmp_path):
    listing = write_list(tmp_path / "l.txt", FIXTURES)
    shards = []
    for k in (1, 2):
        out = tmp_path / f"shard-{k}"
        interp_audit("survey", listing, "--shard", f"{k}/2", "--python", NEWEST, *offline(wheel_dir), "-o", out,
                     cwd=tmp_path)
        shards.append({name for name, _ in results_of(out)})
    assert shards[0].isdisjoint(shards[1]) and shards[0] | shards[1] == set(FIXTURES)
    assert shards[0] == set(select(FIXTURES, 1, 2))
    files = sorted(tmp_path.glob("shard-*/*.json"))
    merged = json.loads(interp_audit("report", *files, "--format", "json", cwd=tmp_path).stdout)
    assert sorted(d["name"] for run in merged["interpreters"] for d in run["distributions"]) == sorted(FIXTURES)


# --------------------------------------------------------------------------- --static-wheels


def _local_index(root: Path, wheels: dict[str, list[Path]]) -> Path:
    """A PEP 503 index (file://) listing ``wheels`` per project, and a pip.conf pointing at it."""
    for project, files in wheels.items():
        folder = root / "index" / project
        folder.mkdir(parents=True)
        links = "".join(f'<a href="{w.as_uri()}">{w.name}</a>\n' for w in files)
        (folder / "index.html").write_text(links, encoding="utf-8")
    config = root / "pip.conf"
    config.write_text(f"[global]\nindex-url = {(root / 'index').as_uri()}\n", encoding="utf-8")
    return config


def test_static_wheels_pass_reads_every_tag_installs_nothing_and_resumes(tmp_path):
    """Every wheel tag a project publishes is read (here one per target Python), nothing is
    installed or imported, a missing project is a line, and a second run does not redo finished ones."""
    pythons = fixturelib.target_pythons()
    if not pythons:
        pytest.skip("no CPython >= 3.12 found")
    specs = {"ia-fixture-clean": "own-gil", "ia-fixture-single": "legacy-only", "ia-fixture-hang": "own-gil"}
    wheels = {name: [fixturelib.build_wheel(p, fixturelib.corpus_spec(name), tmp_path / "w" / str(i))
                     for i, p in enumerate(pythons)] for name in specs}
    config = _local_index(tmp_path, wheels)
    projects = write_list(tmp_path / "list.txt", [*specs, "ia-fixture-missing"])
    env = {**os.environ, "PIP_CONFIG_FILE": str(config), "PIP_EXTRA_INDEX_URL": "", "NO_COLOR": "1"}
    out = tmp_path / "out"
    started = time.monotonic()
    done = interp_audit("survey", projects, "--static-wheels", "-o", out, "--cache-dir", tmp_path / "cache",
                        cwd=tmp_path, env=env)
    assert time.monotonic() - started < 60  # the hang fixture was never imported
    assert "1 no-wheels" in done.stderr and "3 done" in done.stderr
    for name, tier in specs.items():
        document = json.loads((out / f"{name}.wheels.json").read_text())
        tags = {run["python"]["executable"] for run in document["interpreters"]}
        assert tags == {fixturelib.python_info(p)["tag"] for p in pythons}, name
        assert {d["tier"] for run in document["interpreters"] for d in run["distributions"]} == {tier}, name
        assert all(run["scope"] == "wheel" for run in document["interpreters"])
        assert all(d["import_names"] == [name.replace("ia-fixture-", "ia_")]
                   for run in document["interpreters"] for d in run["distributions"]), name
    again = interp_audit("survey", projects, "--static-wheels", "-o", out, "--cache-dir", tmp_path / "cache",
                         cwd=tmp_path, env=env)
    assert "3 resumed" in again.stderr
    merged = interp_audit("report", *sorted(out.glob("*.json")), "--format", "json", cwd=tmp_path, env=env)
    tags = {fixturelib.python_info(p)["tag"] for p in pythons}
    assert {run["python"]["executable"] for run in json.loads(merged.stdout)["interpreters"]} == tags
