"""Settings for the test suite: the portal's own, with keys of the tests' own.

The suite runs with DEBUG off, as Django's test runner does, so the portal refuses to start without its
two keys. These are fixed, long and random, used nowhere else, and set in the environment so that the
processes tests start (manage.py, workers, beat) start with them too.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-Qm3vX8kR2pL9wT4zN7bY1cF6hJ0sD5gA-not-for-production")
os.environ.setdefault("PSEUDONYMISATION_KEY", "tests-only-pseudonyms-Hk4eW9uZ2rM7qP1xV6nB3tS8yC5jL0d")

from privacyportal.settings import *  # noqa: E402, F403

# Hashing a password is deliberately slow; the suite logs in hundreds of times, on two cores, and tests no
# property of the production hasher. A fast one keeps logins in browser tests well inside their timeouts.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: F405
