"""`manage.py scan_website KEY [--url URL ...] [--max-pages N] [--json]`: scan one website now, here.

Exit codes: 0 nothing runs before consent; 1 a cookie, storage key or third party that needs consent is
set or contacted without it (state 1, 2 or 4); 2 bad arguments (unknown website, no address, bad URL);
69 no Chromium to scan with; 70 the scan itself failed.
"""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from consent.models import Property
from scanner import crawler, services
from scanner.models import ScanStatus, ScanTrigger

EXIT_FINDING_BEFORE_CONSENT = 1
EXIT_USAGE = 2
EXIT_NO_CHROMIUM = 69
EXIT_SCAN_FAILED = 70


class Command(BaseCommand):
    help = (
        "Crawl a website in headless Chromium in four consent states and report its cookies, storage and "
        "third parties against its declarations. Exits 1 when something needing consent runs without it."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="the website's public key (as in /consent/<key>/banner.js)")
        parser.add_argument(
            "--url",
            action="append",
            default=[],
            help="a page to start from, instead of the website's addresses (repeatable); the crawl stays on its origin",
        )
        parser.add_argument("--max-pages", type=int, default=None, help="pages to visit at most")
        parser.add_argument("--json", action="store_true", help="print the report as one JSON object, nothing else")

    def handle(self, *args, key, url, max_pages, json: bool, **options):
        prop = Property.objects.filter(key=key).first()
        if prop is None:
            raise CommandError(f"No website has the key {key!r}.", returncode=EXIT_USAGE)
        if max_pages is not None and max_pages < 1:
            raise CommandError("--max-pages must be 1 or more.", returncode=EXIT_USAGE)
        try:
            scan = services.start_scan(
                prop=prop, actor=None, trigger=ScanTrigger.COMMAND, urls=url or None, max_pages=max_pages, queue=False
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages), returncode=EXIT_USAGE)
        self.stderr.write(f"Scanning {prop.name}: {', '.join(scan.start_urls)} (at most {scan.max_pages} pages)")
        try:
            scan = services.run_scan(scan=scan)
        except crawler.ChromiumMissing as exc:
            raise CommandError(str(exc), returncode=EXIT_NO_CHROMIUM)
        if scan.status != ScanStatus.DONE:
            raise CommandError(f"The scan could not finish: {scan.error}", returncode=EXIT_SCAN_FAILED)
        report = scan.report
        if json:
            sys.stdout.write(_dumps(report) + "\n")
            sys.stdout.flush()
        else:
            self._summary(report)
        if report["blocking"]:
            sys.exit(EXIT_FINDING_BEFORE_CONSENT)

    def _summary(self, report: dict) -> None:
        out = self.stdout
        out.write(
            f"{len(report['pages'])} page(s) scanned, {len(report['cookies'])} cookie(s), "
            f"{len(report['findings'])} finding(s)."
        )
        for f in report["findings"]:
            where = f" on {f['page']}" if f["page"] else ""
            state = f" [{f['state']}]" if f["state"] else ""
            out.write(f"- {f['kind']}{state}{where}: {f['detail']}")
        if report["blocking"]:
            out.write("Something that needs consent runs without it: exit 1.")


def _dumps(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, default=str)
