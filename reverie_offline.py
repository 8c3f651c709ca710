#!/usr/bin/env python
"""The invocation users of the original systems know.

    python reverie_offline.py -o <base> -t <new> -s <steps>      # = aga run (every flag of `aga run --help`)
    python reverie_offline.py -t <sim> -c "<Full Name>"          # interview a resident (aga interview)
    python reverie_offline.py -t <sim> -q                        # the diffusion questions to everyone (aga ask),
                                                                 # also written to ./<sim>_question.txt
With -s as well, the steps are run first, then the interview or the questions, as in the
affordable fork. `-q` means questions here (the progress bar is switched off with --quiet).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from aga.cli.interview import reverie_main  # noqa: E402

if __name__ == "__main__":
    reverie_main()
