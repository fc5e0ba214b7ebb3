"""The monthly request figures behind the metrics page, the state of the job that keeps them, and its index.

``(updated_at)``: every few minutes ``summarise_requests`` asks which requests changed since its last run, a
range of this index, instead of reading every request. Requests are written a few times each over weeks:
one more B-tree on them costs nothing measurable.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0008_open_queue_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestFiguresState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(default="requests", max_length=40, unique=True)),
                ("summarised_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "request figures state",
            },
        ),
        migrations.CreateModel(
            name="RequestMonthlyFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(verbose_name="month")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("access", "Access: a copy of my data"),
                            ("portability", "Portability: my data in a reusable format"),
                            ("rectification", "Rectification: correct my data"),
                            ("erasure", "Erasure: delete my data or close my account"),
                            ("restriction", "Restriction: pause the use of my data"),
                            ("objection", "Objection: stop a use of my data, e.g. direct marketing"),
                            ("opt_out", "Opt out of the sale or sharing of my data"),
                            ("withdraw_consent", "Withdraw a consent I gave"),
                            ("complaint", "Complaint about how my data is handled"),
                        ],
                        max_length=32,
                        verbose_name="type",
                    ),
                ),
                (
                    "jurisdiction",
                    models.CharField(
                        choices=[
                            ("gdpr", "European Union / EEA (GDPR)"),
                            ("uk_gdpr", "United Kingdom (UK GDPR)"),
                            ("ccpa", "California (CCPA/CPRA)"),
                            ("lgpd", "Brazil (LGPD)"),
                            ("other", "Elsewhere"),
                        ],
                        max_length=20,
                        verbose_name="jurisdiction",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("awaiting_verification", "Awaiting verification"),
                            ("verified", "Verified"),
                            ("in_progress", "In progress"),
                            ("awaiting_requester", "Awaiting requester"),
                            ("completed", "Completed"),
                            ("denied", "Denied"),
                            ("withdrawn", "Withdrawn"),
                            ("expired", "Expired"),
                        ],
                        max_length=32,
                        verbose_name="status",
                    ),
                ),
                ("received", models.PositiveIntegerField(default=0, verbose_name="received")),
                ("answered", models.PositiveIntegerField(default=0, verbose_name="answered")),
                ("on_time", models.PositiveIntegerField(default=0, verbose_name="answered on time")),
                ("days_total", models.FloatField(default=0.0, verbose_name="days to answer, in all")),
                ("days_tenths", models.JSONField(default=dict, verbose_name="days to answer, in tenths of a day")),
            ],
            options={
                "verbose_name": "monthly request figures",
                "verbose_name_plural": "monthly request figures",
                "ordering": ["month", "kind", "jurisdiction", "status"],
            },
        ),
        migrations.AddIndex(
            model_name="datarequest",
            index=models.Index(fields=["updated_at"], name="request_updated"),
        ),
        migrations.AddConstraint(
            model_name="requestmonthlyfigures",
            constraint=models.UniqueConstraint(
                fields=("month", "kind", "jurisdiction", "status"), name="request_monthly_figures_unique"
            ),
        ),
    ]
