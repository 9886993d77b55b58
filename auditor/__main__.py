"""``python -m interp_audit``: the same as the ``interp-audit`` command."""

from interp_audit._cli import main

if __name__ == "__main__":
    main()
