"""Reports of scan results: terminal table, Markdown, HTML, CSV, JSON, JUnit, badges and the website.

``formats`` maps ``--format`` names to :class:`~interp_audit.reports.interface.Reporter`
implementations (one module each); ``json`` also reads result files back, ``merge``
joins several of them, ``matrix`` lays results out for every format, ``badge`` and
``site`` make badges and the static website from ``templates/`` and ``static/``.
"""
