"""A partial index for the default queue: open requests, most urgent first.

The queue opens on ``status IN (open statuses) ORDER BY due_at, id LIMIT 50``. ``(status, due_at)`` cannot give
that order across four statuses, so PostgreSQL walked ``(due_at, id)`` from the oldest due date and threw away
every closed request on the way: at 100,000 requests, 98,000 rows read to show 50 (about 100 ms, growing with
every request ever answered). This index holds only the open requests (about 2 % of them), in the queue's order,
so the first page reads 50 entries whatever the size of the history; the overdue and due-soon filters are ranges
of it. Its condition is the same status list the queue filters on, so the planner can prove it applies.

A request enters and leaves it a few times in its life: no cost worth counting on writes.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0007_queue_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="datarequest",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["awaiting_verification", "verified", "in_progress", "awaiting_requester"])
                ),
                fields=["due_at", "id"],
                name="request_open_due_id",
            ),
        ),
    ]
