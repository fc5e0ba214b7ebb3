from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0007_truncate_download_ips'),
    ]

    # The models move to the fulfilment app; their tables stay where they are (fulfilment 0001 adopts them).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='dataexport',
                    name='data_request',
                ),
                migrations.RemoveField(
                    model_name='exportdownload',
                    name='export',
                ),
                migrations.RemoveField(
                    model_name='erasurerun',
                    name='approved_by',
                ),
                migrations.RemoveField(
                    model_name='erasurerun',
                    name='data_request',
                ),
                migrations.RemoveField(
                    model_name='erasurestep',
                    name='run',
                ),
                migrations.RemoveField(
                    model_name='exportdownload',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='FulfilmentQueue',
                ),
                migrations.DeleteModel(
                    name='DataExport',
                ),
                migrations.DeleteModel(
                    name='ErasureRun',
                ),
                migrations.DeleteModel(
                    name='ErasureStep',
                ),
                migrations.DeleteModel(
                    name='ExportDownload',
                ),
            ],
            database_operations=[],
        ),
    ]
