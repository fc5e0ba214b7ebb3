"""Banner weight: gzip -9 size of our banner (JS with its CSS inlined) against vanilla-cookieconsent 3.1.0.

Run from the project root:  .venv/bin/python bench/banner_weight.py
The reference package is fetched from the npm registry with `npm pack` into bench/.cache/.
Exit status 1 when ours is heavier than the reference.
"""

import gzip
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
REFERENCE = "vanilla-cookieconsent@3.1.0"
REFERENCE_FILES = ("package/dist/cookieconsent.umd.js", "package/dist/cookieconsent.css")
TARGET_BYTES = 8 * 1024


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def reference_files() -> dict[str, bytes]:
    CACHE.mkdir(parents=True, exist_ok=True)
    tgz = CACHE / "vanilla-cookieconsent-3.1.0.tgz"
    if not tgz.exists():
        subprocess.run(["npm", "pack", REFERENCE, "--silent"], cwd=CACHE, check=True, capture_output=True)
    with tarfile.open(tgz) as tar:
        return {name.rsplit("/", 1)[1]: tar.extractfile(name).read() for name in REFERENCE_FILES}


def our_files() -> dict[str, bytes]:
    """Our banner for a realistic property: four categories in four languages and nine declared cookies."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")
    import django

    django.setup()
    from consent.banner import render_script
    from consent.defaults import CATEGORIES

    cookies = {
        "necessary": [
            ["sessionid", "This website", "2 weeks", 0, "first"],
            ["csrftoken", "This website", "1 year", 0, "first"],
            ["pp_consent", "This website", "6 to 12 months", 0, "first"],
        ],
        "features": [
            ["remember_me", "This website", "30 days", 0, "first"],
            ["lang", "This website", "1 year", 0, "first"],
        ],
        "performance": [
            ["_pa_id", "Example Analytics", "13 months", 0, "first"],
            ["^_pa_ses_.*", "Example Analytics", "30 minutes", 1, "first"],
        ],
        "targeting": [
            ["ads_uid", "Example Ads", "90 days", 0, "third"],
            ["^_xa_.*", "Example Ads", "90 days", 1, "first"],
        ],
    }
    config = {
        "key": "AbCdEfGhIjKl",
        "revision": 3,
        "lang": "en",
        "acceptance_days": 365,
        "refusal_days": 183,
        "css": "/static/consent/banner.css",
        "categories": [{"key": k, "name": n, "description": d, "cookies": cookies[k]} for k, n, d in CATEGORIES],
    }
    # The styles are inlined in the script: it is the one file the banner loads.
    return {"banner.js": render_script(config).encode()}


def main() -> int:
    ours, theirs = our_files(), reference_files()
    rows = []
    for label, files in (("Privacy Portal banner", ours), (REFERENCE, theirs)):
        for name, data in files.items():
            rows.append((label, name, len(data), gz(data)))
    total_ours = sum(gz(d) for d in ours.values())
    total_theirs = sum(gz(d) for d in theirs.values())
    print(f"{'banner':28} {'file':22} {'raw':>8} {'gzip -9':>8}")
    for label, name, raw, size in rows:
        print(f"{label:28} {name:22} {raw:8d} {size:8d}")
    print(f"\nours   JS+CSS gzip -9: {total_ours:6d} B (target <= {TARGET_BYTES} B)")
    print(f"theirs JS+CSS gzip -9: {total_theirs:6d} B")
    print(f"ratio ours/theirs: {total_ours / total_theirs:.2f}")
    print(json.dumps({"ours": total_ours, "theirs": total_theirs, "target": TARGET_BYTES}))
    return 0 if total_ours <= total_theirs else 1


if __name__ == "__main__":
    sys.exit(main())
