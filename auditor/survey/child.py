"""``python -m interp_audit.survey.child``: run one survey task in this process.

Reads a task (JSON) on standard input and writes its outcome (JSON) on
standard output; the local executor starts one such process per task.
"""

import json
import sys

from interp_audit.survey.task import result_to_dict, run_task, task_from_dict


def main() -> int:
    task = task_from_dict(json.load(sys.stdin))
    json.dump(result_to_dict(run_task(task)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
