from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import NameForm
from accounts.selectors import list_email_addresses
from accounts.services import update_name


@login_required
def hub(request):
    """The account holder's home: who they are, and a link to everything they can manage."""
    return render(request, "accounts/hub.html", {"emails": list_email_addresses(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def edit_name(request):
    """Let the account holder correct their own name."""
    form = NameForm(request.POST or None, initial={"name": request.user.get_full_name()})
    if request.method == "POST" and form.is_valid():
        update_name(user=request.user, name=form.cleaned_data["name"])
        messages.success(request, _("Your name was saved."))
        return redirect("accounts:hub")
    return render(request, "accounts/name.html", {"form": form})
