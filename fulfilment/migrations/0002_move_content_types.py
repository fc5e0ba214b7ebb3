from django.db import migrations

MOVED = {
    "registry": ["dataexport", "exportdownload", "erasurerun", "erasurestep", "fulfilmentqueue"],
    "retention": ["inactiveaccountnotice", "accountdeletion"],
}


def move_content_types(apps, schema_editor):
    """Give the moved models' content types their new app label, so that the staff groups' permissions,
    the admin's history and any generic reference keep pointing at them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_label, models in MOVED.items():
        for model in models:
            old = ContentType.objects.using(db).filter(app_label=old_label, model=model).first()
            if old is None:
                continue  # a fresh database: post_migrate creates them under the new label
            ContentType.objects.using(db).filter(app_label="fulfilment", model=model).delete()
            old.app_label = "fulfilment"
            old.save(update_fields=["app_label"])


def move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_label, models in MOVED.items():
        ContentType.objects.using(db).filter(app_label="fulfilment", model__in=models).update(app_label=old_label)


class Migration(migrations.Migration):
    dependencies = [
        ("fulfilment", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(move_content_types, move_back)]
