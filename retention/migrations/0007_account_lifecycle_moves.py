from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('retention', '0006_watchdog_schedule'),
    ]

    # The account-lifecycle models move to the fulfilment app; their tables stay (fulfilment 0001 adopts them).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='inactiveaccountnotice',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='AccountDeletion',
                ),
                migrations.DeleteModel(
                    name='InactiveAccountNotice',
                ),
            ],
            database_operations=[],
        ),
    ]
