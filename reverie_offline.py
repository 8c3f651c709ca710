#!/usr/bin/env python
"""The invocation users of the original systems know: ``python reverie_offline.py -o <base> -t <new> -s <steps>``.

Same as ``aga run``; every flag of ``aga run --help`` works here too.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from aga.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "run", *sys.argv[1:]]
    main()
