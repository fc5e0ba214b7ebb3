"""The organisation's own product, in miniature: the personal data a privacy portal must answer for."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Profile(models.Model):
    """Account details beyond auth.User: job, company, time zone."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="demo_profile")
    job_title = models.CharField(max_length=120, blank=True)
    company = models.CharField(max_length=120, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/Brussels")
    phone = models.CharField(max_length=40, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Profile of user #{self.user_id}"


class NewsletterSubscription(models.Model):
    """A mailing-list subscription (account holders and anonymous sign-ups)."""

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField()
    list_name = models.CharField(max_length=60, default="product-news")
    subscribed_at = models.DateTimeField(default=timezone.now)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    signup_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.list_name} subscription #{self.pk}"


class SupportConversation(models.Model):
    """A support thread copied from the help-desk mailbox."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField()
    customer_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.subject


class SupportMessage(models.Model):
    """One e-mail within a support conversation."""

    conversation = models.ForeignKey(SupportConversation, on_delete=models.CASCADE, related_name="messages")
    from_customer = models.BooleanField(default=True)
    sender_email = models.EmailField()
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Message #{self.pk}"


class BlogComment(models.Model):
    """A comment on the product blog; the IP address is kept for abuse handling."""

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_name = models.CharField(max_length=120)
    author_email = models.EmailField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    post_slug = models.SlugField(max_length=120)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["author_email"])]

    def __str__(self) -> str:
        return f"Comment #{self.pk} on {self.post_slug}"


class TrafficLog(models.Model):
    """A request to the product's web servers."""

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.path} at {self.created_at:%Y-%m-%d %H:%M}"


class Order(models.Model):
    """A purchase; payment is handled by a third-party payment provider."""

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    number = models.CharField(max_length=30, unique=True)
    billing_name = models.CharField(max_length=200)
    billing_address = models.TextField()
    product = models.CharField(max_length=120)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    placed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.number


class Invoice(models.Model):
    """An invoice to a business customer; tax law requires keeping it for seven years."""

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    number = models.CharField(max_length=30, unique=True)
    billing_company = models.CharField(max_length=200)
    billing_address = models.TextField()
    vat_number = models.CharField(max_length=30, blank=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    issued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.number


class DeviceTelemetry(models.Model):
    """A telemetry report from one of the customer's devices."""

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    device_model = models.CharField(max_length=80)
    serial_number = models.CharField(max_length=40)
    software_version = models.CharField(max_length=20)
    battery_level = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "device telemetry"

    def __str__(self) -> str:
        return f"{self.device_model} report #{self.pk}"


def _upload_path(instance, filename: str) -> str:
    return f"demo/uploads/{instance.user_id}/{filename}"


class UploadedFile(models.Model):
    """A file a customer uploaded to the product (kept in private storage)."""

    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to=_upload_path, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.original_name
