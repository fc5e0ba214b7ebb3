from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core import ratelimit
from retention import selectors, services
from retention.forms import DeleteAccountForm


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """Explain what deletion removes and keeps; on a confirmed password, schedule it."""
    pending = services.pending_deletion(user=request.user)
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and pending is None:
        if not ratelimit.hit(scope="account-delete", key=str(request.user.pk), rate="10/h"):
            form.add_error(None, _("Too many attempts. Please try again later."))
        elif form.is_valid():
            deletion = services.request_account_deletion(user=request.user)
            messages.success(
                request,
                _("Your account will be deleted on %(date)s. Log in before then to keep it.")
                % {"date": formats.date_format(timezone.localtime(deletion.execute_after), "j F Y")},
            )
            return redirect("retention:delete_account")
    return render(
        request,
        "retention/delete_account.html",
        {
            "form": form,
            "pending": pending,
            "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS,
            "kept": selectors.kept_after_deletion(),
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancel_deletion(request):
    """Confirm, then cancel one's own scheduled deletion."""
    pending = services.pending_deletion(user=request.user)
    if request.method == "POST":
        try:
            services.cancel_account_deletion(user=request.user)
        except ValidationError as exc:
            messages.info(request, exc.messages[0])
        else:
            messages.success(request, _("Your account will not be deleted."))
        return redirect("retention:delete_account")
    return render(request, "retention/cancel_deletion.html", {"pending": pending})
