"""Where things are: the repository, the tests, the saved payloads."""

from pathlib import Path

#: The ``tests/`` folder: on ``sys.path`` in pytest (``pythonpath``) and in test workers.
TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
PAYLOADS = TESTS / "support" / "payloads"
