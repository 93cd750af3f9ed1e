"""Test-suite wide settings: Hypothesis profiles.

The default profile ("repeatable") derandomizes Hypothesis: the suite draws the same examples on
every run, so a CI result says something about the code, not about the draw (a random draw once
found a real stream/batch difference that a later run would not have seen — it is now an explicit
``@example``). To explore new examples locally, run with ``HYPOTHESIS_PROFILE=explore`` (random
draws) — repeatedly, or raising a test's ``max_examples`` — and put anything it finds into an
``@example`` of the test.
"""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
