"""Settings for the test suite: the portal's own, with keys of the tests' own.

The suite runs with DEBUG off, as Django's test runner does, so the portal refuses to start without its
two keys. These are fixed, long and random, used nowhere else, and set in the environment so that the
processes tests start (manage.py, workers, beat) start with them too.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-Qm3vX8kR2pL9wT4zN7bY1cF6hJ0sD5gA-not-for-production")
os.environ.setdefault("PSEUDONYMISATION_KEY", "tests-only-pseudonyms-Hk4eW9uZ2rM7qP1xV6nB3tS8yC5jL0d")

# The demo's connected web shop: a file of each test process's own, which the processes it starts reach too.
_shop_dir = os.path.join(tempfile.gettempdir(), f"privacyportal-tests-{os.getpid()}")
os.makedirs(_shop_dir, exist_ok=True)
os.environ.setdefault("DEMO_SHOP_DATABASE_URL", f"sqlite:///{_shop_dir}/demo_shop.sqlite3")

from privacyportal.settings import *  # noqa: E402, F403

# Hashing a password is deliberately slow; the suite logs in hundreds of times, on two cores, and tests no
# property of the production hasher. A fast one keeps logins in browser tests well inside their timeouts.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: F405
