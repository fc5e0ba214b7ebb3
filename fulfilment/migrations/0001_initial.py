import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('retention', '0007_account_lifecycle_moves'),
        ('registry', '0008_fulfilment_models_move'),
        ('requests_app', '0005_release_approval'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Adopts the tables registry and retention created (db_table): an upgrade copies no data.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='FulfilmentQueue',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ],
                    options={
                        'verbose_name': 'request to fulfil',
                        'verbose_name_plural': 'requests to fulfil',
                        'managed': False,
                    },
                ),
                migrations.CreateModel(
                    name='DataExport',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('state', models.CharField(choices=[('pending', 'queued'), ('running', 'being prepared'), ('ready', 'ready'), ('failed', 'failed'), ('expired', 'expired')], default='pending', max_length=20)),
                        ('rows_total', models.PositiveBigIntegerField(default=0)),
                        ('rows_done', models.PositiveBigIntegerField(default=0)),
                        ('file_path', models.CharField(blank=True, max_length=500)),
                        ('size_bytes', models.PositiveBigIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('download_count', models.PositiveIntegerField(default=0)),
                        ('progress_at', models.DateTimeField(blank=True, null=True, verbose_name='last progress')),
                        ('crash_resumes', models.PositiveIntegerField(default=0, verbose_name='restarted after a worker crash')),
                        ('data_request', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exports', to='requests_app.datarequest')),
                    ],
                    options={
                        'verbose_name': 'data export',
                        'db_table': 'registry_dataexport',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ErasureRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('state', models.CharField(choices=[('previewed', 'awaiting approval'), ('approved', 'approved'), ('running', 'running'), ('completed', 'completed'), ('failed', 'failed')], default='previewed', max_length=20)),
                        ('subject_user_id', models.BigIntegerField(blank=True, null=True)),
                        ('subject_emails', models.JSONField(default=list)),
                        ('preview', models.JSONField(default=dict)),
                        ('report', models.JSONField(blank=True, default=dict)),
                        ('approved_at', models.DateTimeField(blank=True, null=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('sealed_at', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('progress_at', models.DateTimeField(blank=True, null=True, verbose_name='last progress')),
                        ('crash_resumes', models.PositiveIntegerField(default=0, verbose_name='resumed after a worker crash')),
                        ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('data_request', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='erasure_run', to='requests_app.datarequest')),
                    ],
                    options={
                        'verbose_name': 'erasure run',
                        'db_table': 'registry_erasurerun',
                    },
                ),
                migrations.CreateModel(
                    name='ExportDownload',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('via', models.CharField(max_length=20)),
                        ('ip', models.CharField(blank=True, max_length=64)),
                        ('at', models.DateTimeField(auto_now_add=True)),
                        ('export', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='downloads', to='fulfilment.dataexport')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'registry_exportdownload',
                    },
                ),
                migrations.CreateModel(
                    name='AccountDeletion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('scheduled', 'Scheduled'), ('cancelled', 'Cancelled'), ('executed', 'Executed'), ('failed', 'Failed')], default='scheduled', max_length=10)),
                        ('data_request_id', models.BigIntegerField(blank=True, null=True)),
                        ('request_reference', models.CharField(blank=True, max_length=40)),
                        ('requested_at', models.DateTimeField()),
                        ('execute_after', models.DateTimeField()),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('error', models.TextField(blank=True)),
                        ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'retention_accountdeletion',
                        'ordering': ['-requested_at'],
                        'indexes': [models.Index(fields=['status', 'execute_after'], name='retention_a_status_5064e2_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='ErasureStep',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveIntegerField()),
                        ('dataset', models.CharField(max_length=100)),
                        ('state', models.CharField(choices=[('pending', 'pending'), ('done', 'done'), ('kept', 'kept')], default='pending', max_length=10)),
                        ('counts', models.JSONField(blank=True, default=dict)),
                        ('kept', models.JSONField(blank=True, default=list)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='fulfilment.erasurerun')),
                    ],
                    options={
                        'db_table': 'registry_erasurestep',
                        'ordering': ['run', 'position'],
                        'constraints': [models.UniqueConstraint(fields=('run', 'dataset'), name='erasurestep_unique_dataset')],
                    },
                ),
                migrations.CreateModel(
                    name='InactiveAccountNotice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('warned', 'Warned'), ('cancelled', 'Cancelled by a login'), ('deleted', 'Account deleted'), ('held', 'Kept: legal hold')], default='warned', max_length=10)),
                        ('last_login_at_warning', models.DateTimeField(blank=True, null=True)),
                        ('warned_at', models.DateTimeField()),
                        ('delete_after', models.DateTimeField()),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('data_request_id', models.BigIntegerField(blank=True, null=True)),
                        ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'retention_inactiveaccountnotice',
                        'ordering': ['-warned_at'],
                        'indexes': [models.Index(fields=['status', 'delete_after'], name='retention_i_status_f49f15_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
