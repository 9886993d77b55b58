"""The rule catalogue: stable codes (IA101 ...) that turn scan facts into findings.

Public API: :func:`registry.evaluate` / :func:`registry.apply` (judge
distributions), :func:`registry.get` / :func:`registry.all_rules` (metadata),
:func:`config.load_config` (``[tool.interp-audit]`` selection and ignores).
"""
