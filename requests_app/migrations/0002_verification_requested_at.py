import django.utils.timezone
from django.db import migrations, models


def from_created_at(apps, schema_editor):
    # Until now the window counted from the moment the request entered the system.
    DataRequest = apps.get_model("requests_app", "DataRequest")
    DataRequest.objects.update(verification_requested_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="datarequest",
            name="verification_requested_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(from_created_at, migrations.RunPython.noop),
    ]
