"""Who a request is about: the identifiers used to find a subject's rows in every dataset."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model


@dataclass
class Subject:
    user_ids: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    # Rows handled elsewhere, e.g. the erasure request itself (pseudonymised after the requester is told).
    exclude: dict[str, list] = field(default_factory=dict)


def subject_for_request(data_request) -> Subject:
    """The account (if any) and verified e-mail addresses a verified request speaks for."""
    from allauth.account.models import EmailAddress

    User = get_user_model()
    emails = {data_request.requester_email.strip().lower()} if data_request.requester_email else set()
    user = data_request.user
    if user is None and emails:
        # The requester proved control of this address; an account verified on it is theirs.
        address = EmailAddress.objects.filter(email__iexact=next(iter(emails)), verified=True).first()
        user = address.user if address else User.objects.filter(email__iexact=next(iter(emails))).first()
    subject = Subject()
    if user is not None:
        subject.user_ids = [user.pk]
        if user.email:
            emails.add(user.email.lower())
        emails.update(
            e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
        )
        full = f"{user.first_name} {user.last_name}".strip()
        if full:
            subject.names.append(full)
    if data_request.requester_name:
        subject.names.append(data_request.requester_name)
    subject.emails = sorted(emails)
    return subject
