"""pytest plugin: run a project's own tests inside CPython sub-interpreters (off unless asked for)."""
