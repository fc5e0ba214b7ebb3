"""The demo seeding as a Celery task, so that staff can schedule it in admin (e.g. for a demo site)."""

from celery import shared_task


@shared_task(name="demo.seed_demo", soft_time_limit=1800, time_limit=1900)
def seed_demo_task(users: int = 50, if_empty: bool = True) -> str:
    """Run ``seed_demo``: by default only when no demo data was loaded yet."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("seed_demo", users=users, if_empty=if_empty, stdout=out)
    return out.getvalue().strip().splitlines()[-1] if out.getvalue().strip() else ""
