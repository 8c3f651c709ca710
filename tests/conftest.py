"""Settings for every test: only loopback and local model backends, the test doubles registered.

``AGA_LOCAL_BACKENDS_ONLY`` makes ``build_gateway`` refuse any endpoint that is not on this
machine's loopback (see ``aga.gateway.registry``), so no test can reach a paid endpoint by
accident, even with real keys in the environment. Subprocesses the tests start inherit it.
"""

from __future__ import annotations

import os

os.environ["AGA_LOCAL_BACKENDS_ONLY"] = "1"
# Every run the tests start checks after each step that each change of a resident's state was
# marked (aga.minds.state.check_marked), so an unsaved change fails loudly.
os.environ.setdefault("AGA_CHECK_STATE", "1")

import aga.testing  # noqa: E402,F401  (registers the scripted model and the hash embedder)
