"""Static evidence about extension modules: what each binary declares and what global state it carries.

The scan calls :func:`interp_audit.static.inspection.inspect_extensions`; see
``docs/static-evidence.md``.
"""
