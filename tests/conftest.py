"""Pytest fixtures shared by every test module: target interpreters and the fixture corpus.

* ``target_python`` -- one CPython >= 3.12 executable per parameter (ids ``py3.12``,
  ``py3.13``, ...).  When none is found the tests are skipped, or fail when the
  environment variable ``CI`` is ``true``.
* ``corpus_env`` -- a venv of that interpreter with the whole fixture corpus
  installed (see ``fixturelib.CORPUS`` / ``fixturelib.EXPECTED``), built once per
  interpreter per session.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fixturelib  # noqa: E402

_PYTHONS = fixturelib.target_pythons()


def _label(python):
    return fixturelib.python_info(python)["label"] if python else "no-target-python"


@pytest.fixture(scope="session", params=_PYTHONS or [None], ids=_label)
def target_python(request) -> str:
    """A CPython >= 3.12 executable with headers (parametrized over all found)."""
    if request.param is None:
        message = "no CPython >= 3.12 found (set %s to a list of interpreters)" % fixturelib.ENV_PYTHONS
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return request.param


@pytest.fixture(scope="session")
def corpus_env(target_python, tmp_path_factory) -> fixturelib.CorpusEnv:
    """A venv of ``target_python`` with every fixture distribution installed."""
    root = tmp_path_factory.mktemp("corpus-" + _label(target_python))
    return fixturelib.build_corpus(target_python, root)
