"""``interp-audit wheel``: audit wheel files without installing them (``audit.py``), fetched
from the package index pip is configured to use when given a project name (``index.py``)."""
