"""Indexes for the request queue's order and the received-date ranges.

- ``(due_at, id)``: the queue lists requests most urgent first (``ORDER BY due_at``, ties by key, 50 a page).
  Open requests, the default, already read in that order from ``(status, due_at)``; with "All", a closed
  status or a search, the list used to sort every matching request to show 50. The due-date filters
  (overdue, due this week, due later) are ranges of ``due_at`` too.
- ``(received_at)``: the date drill-down's first and last dates (MIN/MAX), its year and month ranges, and
  the metrics page's months.

Requests are written a few times each over weeks, not thousands a second like the consent log: two more
B-trees on a table of about a hundred thousand rows cost its writes nothing measurable.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0006_request_trail_to_audit")]

    operations = [
        migrations.AddIndex(
            model_name="datarequest",
            index=models.Index(fields=["due_at", "id"], name="request_due_id"),
        ),
        migrations.AddIndex(
            model_name="datarequest",
            index=models.Index(fields=["received_at"], name="request_received"),
        ),
    ]
