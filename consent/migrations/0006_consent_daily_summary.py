"""The daily roll-up of the consent log and the state of the job that keeps it (``summarise_consent``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_refused_origins"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentDailySummary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="day")),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("accept_all", "Accept all"),
                            ("reject_all", "Reject all"),
                            ("custom", "Custom"),
                            ("gpc", "Global Privacy Control"),
                            ("withdraw", "Withdrawal"),
                        ],
                        max_length=20,
                        verbose_name="method",
                    ),
                ),
                ("gpc", models.BooleanField(default=False, verbose_name="Global Privacy Control")),
                ("count", models.PositiveBigIntegerField(default=0, verbose_name="choices")),
            ],
            options={
                "verbose_name": "daily consent figures",
                "verbose_name_plural": "daily consent figures",
                "ordering": ["-day", "property", "method", "gpc"],
            },
        ),
        migrations.CreateModel(
            name="ConsentSummaryState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(default="consent", max_length=40, unique=True)),
                ("last_record_id", models.BigIntegerField(default=0)),
                ("summarised_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "consent figures state",
            },
        ),
        migrations.AddField(
            model_name="consentdailysummary",
            name="property",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="daily_summaries", to="consent.property"
            ),
        ),
        migrations.AddIndex(
            model_name="consentdailysummary",
            index=models.Index(fields=["property", "day"], name="consent_summary_site_day"),
        ),
        migrations.AddConstraint(
            model_name="consentdailysummary",
            constraint=models.UniqueConstraint(
                fields=("day", "property", "method", "gpc"), name="consent_daily_summary_unique"
            ),
        ),
    ]
