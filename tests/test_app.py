"""``interp-audit app``: small real apps, with their real frameworks from PyPI, in throwaway venvs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fixturelib

#: The frameworks the apps use, pinned; installed once per session and target Python.
REQUIREMENTS = ["starlette==1.10.0", "flask==3.1.3", "numpy==2.5.5"]

STARLETTE_APP = '''\
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

started = []


async def lifespan(app):
    started.append("yes")
    yield


async def home(request):
    return PlainTextResponse("hello, started=%s" % started)


async def item(request):
    return JSONResponse({"item": int(request.path_params["n"]) * 2})


app = Starlette(routes=[Route("/", home), Route("/items/{n}", item)], lifespan=lifespan)
'''

SHOP_ROUTES = '''\
import numpy
from starlette.responses import PlainTextResponse


async def total(request):
    return PlainTextResponse(str(int(numpy.arange(5).sum())))
'''

SHOP_MAIN = '''\
from starlette.applications import Starlette
from starlette.routing import Route

from shop.routes import total

app = Starlette(routes=[Route("/", total)])
'''

FLASK_APP = '''\
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "hello from flask"


@app.route("/boom")
def boom():
    raise RuntimeError("boom")
'''

# Start-up keeps a per-interpreter token in ia_cglobal's C global: the last interpreter
# to start overwrites the others' tokens.
CGLOBAL_APP = '''\
import random

import ia_cglobal

token = []


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                token.append(random.randrange(1, 1 << 60))
                ia_cglobal.set_value(token[0])
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    mine = ia_cglobal.get_value() == token[0]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"mine" if mine else b"another interpreter's"})
'''


@pytest.fixture(scope="session")
def app_venv(target_python, tmp_path_factory) -> Path:
    """A venv of the target Python with the frameworks from PyPI and fixture wheels: ia_cglobal,
    ia_degraded (a single-phase accelerator with a pure-Python fallback), ia_race (aborts when two
    own-GIL interpreters call it at once)."""
    root = tmp_path_factory.mktemp("app-venv")
    venv = fixturelib.make_venv(target_python, root / "venv")
    uv = Path(sys.executable).parent / "uv"
    command = [str(uv), "pip", "install", "-q", "--python", str(venv)] if uv.exists() else \
        [sys.executable, "-m", "pip", "--python", str(venv), "install", "-q"]
    subprocess.run(command + REQUIREMENTS, check=True, capture_output=True)
    wheels = [fixturelib.build_wheel(target_python, fixturelib.corpus_spec(name), root / "wheels")
              for name in ("ia-fixture-cglobal", "ia-fixture-degraded", "ia-fixture-race")]
    fixturelib.install_wheels(venv, wheels)
    return venv


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def app_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interp_audit", "app", *args, "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


def _json(cwd: Path, *args: str) -> dict:
    done = app_cli(cwd, *args, "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)["application"]


def test_starlette_app_is_own_gil_and_answers_in_four_interpreters_at_once(app_venv, tmp_path):
    project = _project(tmp_path, {"webapp.py": STARLETTE_APP})
    found = _json(project, "webapp:app", "--python", str(app_venv), "--run",
                  "--request", "GET /", "--request", "GET /items/21")
    assert (found["tier"], found["kind"], found["blockers"]) == ("own-gil", "asgi", [])
    run = found["run"]
    assert (run["status"], run["mode"], run["rungs"]) == ("passed", "isolated", {"isolated": "passed"})
    expected = [("GET /", 200, "hello, started=['yes']"), ("GET /items/21", 200, '{"item":42}')]
    assert [(a["request"], a["status"], a["body"]) for a in run["main"]["answers"]] == expected
    assert len(run["members"]) == 4
    for member in run["members"]:
        assert [(a["request"], a["status"], a["body"]) for a in member["answers"]] == expected
        assert member["start"] is None and member["stop"] is None and member["startup_seconds"] > 0
    assert run["cost"]["rss_kib_per_interpreter"] > 0 and run["cost"]["interpreter_seconds"] > 0
    # Nothing of the tool is installed in the app's venv.
    assert subprocess.run([str(app_venv), "-c", "import interp_audit"], capture_output=True).returncode != 0


def test_numpy_in_a_route_module_makes_the_app_main_only_with_numpy_named(app_venv, tmp_path):
    project = _project(tmp_path, {"shop/__init__.py": "", "shop/routes.py": SHOP_ROUTES, "shop/main.py": SHOP_MAIN})
    found = _json(project, "shop.main:app", "--python", str(app_venv))
    assert found["tier"] == "main-only"
    [blocker] = found["blockers"]
    assert blocker["distribution"] == "numpy" and blocker["module"].startswith("numpy.")
    assert (blocker["tier"], blocker["reason"]) == ("main-only", "one interpreter per process")
    assert blocker["blocks"] == ["own-gil", "shared-gil", "legacy-only"]
    climbed = {d["name"]: d["tier"] for d in found["distributions"]}
    assert climbed["numpy"] == "main-only" and climbed["starlette"] == "own-gil"
    table = app_cli(project, "shop.main:app", "--python", str(app_venv), "--color", "never")
    assert table.returncode == 0
    assert f"{blocker['module']} (numpy, " in table.stdout and "blocks own-gil" in table.stdout
    html = app_cli(project, "shop.main:app", "--python", str(app_venv), "--format", "html")
    assert f"{blocker['module']} (numpy, " in html.stdout  # the app's row carries its blockers
    assert app_cli(project, "shop.main:app", "--python", str(app_venv), "--fail-under", "own-gil").returncode == 1
    assert app_cli(project, "shop.main:app", "--python", str(app_venv), "--fail-under", "main-only").returncode == 0


def test_flask_app_runs_through_the_wsgi_driver(app_venv, tmp_path):
    project = _project(tmp_path, {"site_app.py": FLASK_APP})
    found = _json(project, "site_app:app", "--python", str(app_venv), "--run", "-n", "3",
                  "--request", "GET /", "--request", "GET /boom", "--request", "GET /missing")
    assert (found["tier"], found["kind"]) == ("own-gil", "wsgi")
    run = found["run"]
    assert run["status"] == "passed" and len(run["members"]) == 3
    statuses = [(a["request"], a["status"]) for a in run["main"]["answers"]]
    assert statuses == [("GET /", 200), ("GET /boom", 500), ("GET /missing", 404)]
    assert run["main"]["answers"][0]["body"] == "hello from flask"
    assert all(m["answers"] == run["main"]["answers"] for m in run["members"])


def test_state_in_a_c_global_gives_wrong_answers_in_concurrent_interpreters(app_venv, tmp_path):
    project = _project(tmp_path, {"counter.py": CGLOBAL_APP})
    found = _json(project, "counter:app", "--python", str(app_venv), "--run")
    run = found["run"]
    assert run["status"] == "failed"
    assert run["main"]["answers"][0]["body"] == "mine"
    wrong = [d for d in run["differences"] if d["got"]["body"] == "another interpreter's"]
    assert len(wrong) >= 3  # only the last interpreter to start keeps its token
    # Every rung shares the C global: --run fails in each, so the app is main-only, its own code to blame.
    assert run["rungs"] == {"isolated": "failed", "shared-gil": "failed", "legacy": "failed"}
    assert found["tier"] == "main-only"
    assert found["blockers"][0]["distribution"] is None and "answers differ" in found["blockers"][0]["reason"]


def test_the_app_failing_in_main_is_a_clear_error(app_venv, tmp_path):
    project = _project(tmp_path, {"broken_app.py": "import not_installed_anywhere\n", "fine.py": "x = 1\n"})
    for target, said in (("broken_app:app", "No module named 'not_installed_anywhere'"),
                         ("fine:app", "has no attribute 'app'"), ("fine:", "is not a module"),
                         ("missing.py", "no such script")):
        done = app_cli(project, target, "--python", str(app_venv))
        assert done.returncode == 2, (target, done.stdout, done.stderr)
        assert said in done.stderr and "Traceback" not in done.stderr
    nothing_to_serve = app_cli(project, "fine", "--python", str(app_venv), "--run")
    assert nothing_to_serve.returncode == 2 and "--run needs a callable" in nothing_to_serve.stderr


def test_every_format_and_a_script_target(app_venv, tmp_path):
    project = _project(tmp_path, {"scripts/serve.py": STARLETTE_APP + "\nif __name__ == '__main__':\n    raise SystemExit(3)\n"})
    for fmt, expected in (("markdown", "**scripts/serve.py on CPython"), ("html", "scripts/serve.py"),
                          ("csv", "scripts/serve.py"), ("junit", "scripts/serve.py"), ("table", ": own-gil")):
        done = app_cli(project, "scripts/serve.py", "--python", str(app_venv), "--format", fmt)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout, (fmt, done.stdout[:2000])
    searched = app_cli(project, "serve:app", "--path", "scripts", "--python", str(app_venv), "--format", "json")
    assert json.loads(searched.stdout)["application"]["tier"] == "own-gil"
    assert app_cli(project, "serve:app", "--python", str(app_venv)).returncode == 2  # not on the path without it


def test_a_fallback_in_the_graph_is_degraded_not_blocking(app_venv, tmp_path):
    project = _project(tmp_path, {"fast.py": "import ia_degraded\n\ndef app():\n    return ia_degraded.fast(3)\n"})
    found = _json(project, "fast:app", "--python", str(app_venv), "--run")
    assert (found["tier"], found["kind"], found["blockers"]) == ("own-gil", "callable", [])
    assert found["degraded"] == [{"module": "ia_degraded._speedups", "distribution": "ia-fixture-degraded",
                                  "rungs": ["isolated"]}]
    assert found["run"]["status"] == "passed"
    table = app_cli(project, "fast:app", "--python", str(app_venv), "--color", "never")
    assert "ia_degraded._speedups (ia-fixture-degraded) in isolated" in table.stdout


ASYNCIO_ALONE = """\
import runpy, sys
interpreters = runpy.run_path(sys.argv[1])
print(interpreters["run"]("isolated", "import asyncio"))
"""


def test_cpython_crashes_the_graph_triggers_are_listed_not_counted(app_venv, tmp_path):
    """Where this Python dies importing asyncio alone in an isolated interpreter (3.12.1),
    the Starlette app stays own-gil and the problem is listed once."""
    probe = Path(__file__).resolve().parent.parent / "auditor" / "probe" / "interpreters.py"
    crashes = [subprocess.run([str(app_venv), "-c", ASYNCIO_ALONE, str(probe)], capture_output=True).returncode < 0
               for _ in range(3)]
    if not any(crashes):
        pytest.skip("this Python imports asyncio alone in an isolated interpreter without crashing")
    project = _project(tmp_path, {"webapp.py": STARLETTE_APP})
    found = _json(project, "webapp:app", "--python", str(app_venv))
    assert found["tier"] == "own-gil" and "crashed" not in found["app"]["flags"]
    [problem] = [p for p in found["known_problems"] if "_asyncio" in p["reproduction"]]
    assert problem["distributions"] == ["webapp:app"]
    table = app_cli(project, "webapp:app", "--python", str(app_venv), "--color", "never")
    assert table.stdout.count("Known problems of this Python") == 1 and "(_asyncio)" in table.stdout


def test_a_crash_of_concurrent_calls_is_reported_with_its_step_and_rerun_one_rung_down(app_venv, tmp_path):
    project = _project(tmp_path, {"racer.py": "import ia_race\n\ndef work():\n    ia_race.work()\n    return 'done'\n"})
    found = _json(project, "racer:work", "--python", str(app_venv), "--run")
    run = found["run"]
    assert (run["status"], run["kind"], run["requests"]) == ("crashed", "callable", ["work()"])
    assert run["crash"]["signal"] == "SIGABRT" and run["crash"]["culprit"] == "serve work()"
    # the standard library alone does not crash that way: the app is blamed; with one GIL it passes
    control = next(c for c in found["app"]["controls"] if c["kind"] == "parallel")
    assert not control["crashed"] and found["known_problems"] == []
    assert run["rungs"] == {"isolated": "crashed", "shared-gil": "passed"}
    assert found["tier"] == "shared-gil"
    [blocker] = found["blockers"]
    assert blocker["module"] == "racer" and blocker["blocks"] == ["own-gil"] and "serve work()" in blocker["reason"]
