"""Demo volumes for the host application: account holders and every dataset, spread over three years.

Bulk inserts only, one password hash for all demo users, so 10,000 users load in seconds. Each
subject's rows carry only that subject's own name, e-mail and IP addresses.
"""

import random
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from demo.models import (
    BlogComment,
    DeviceTelemetry,
    Invoice,
    NewsletterSubscription,
    Order,
    Profile,
    SupportConversation,
    SupportMessage,
    TrafficLog,
    UploadedFile,
)
from demo.shop import seed_shop

DEMO_PASSWORD = "demo-user-2026"
BATCH = 2000
SPAN_DAYS = 3 * 365

FIRST = [
    "Alex",
    "Sam",
    "Robin",
    "Charlie",
    "Jamie",
    "Morgan",
    "Noa",
    "Lena",
    "Ines",
    "Pieter",
    "Sofie",
    "Lucas",
    "Emma",
    "Milan",
    "Julia",
    "Tom",
    "Sara",
    "Arne",
    "Eva",
    "Jonas",
    "Maya",
    "Victor",
    "Lotte",
    "Ruben",
]
LAST = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "Dubois",
    "Lambert",
    "Martin",
    "Smit",
    "de Vries",
    "Bakker",
    "Visser",
    "Meyer",
    "Schulz",
    "Novak",
    "Rossi",
]
TITLES = [
    "Office manager",
    "IT administrator",
    "Operations lead",
    "Buyer",
    "Engineer",
    "Designer",
    "Accountant",
    "Founder",
    "Project manager",
    "Support lead",
]
COMPANIES = [
    "Acme Tools",
    "Northwind Labs",
    "Blue Harbour",
    "Greenfield Farms",
    "Orbit Logistics",
    "Pixel Forge",
    "Riverstone Legal",
    "Summit Health",
    "Tidewater Retail",
    "Vertex Energy",
]
ZONES = ["Europe/Brussels", "Europe/Amsterdam", "Europe/Paris", "Europe/Berlin", "Europe/London", "America/New_York"]
PATHS = ["/", "/pricing/", "/docs/", "/docs/install/", "/blog/", "/account/", "/downloads/", "/support/", "/login/"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
]
DEVICES = ["Sensor S1", "Sensor S2 Pro", "Gateway G4", "Tracker T3"]
PRODUCTS = [
    ("Starter plan (1 year)", 9900),
    ("Team plan (1 year)", 49900),
    ("Sensor S2 Pro", 12900),
    ("Gateway G4", 29900),
    ("Support pack", 19900),
]
SUBJECTS = [
    "Cannot log in",
    "Invoice question",
    "Device offline",
    "Feature request",
    "Export to CSV",
    "Change billing address",
    "Battery drains fast",
    "Update failed",
]


def _ip_for(index: int, k: int = 0) -> str:
    # One private range per subject, so no address is ever shared between two people.
    n = index * 4 + k
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _when(rng: random.Random, now):
    return now - timedelta(days=rng.random() * SPAN_DAYS, seconds=rng.randint(0, 86399))


def _flush(model, rows: list, force: bool = False) -> None:
    if rows and (force or len(rows) >= BATCH):
        model.objects.bulk_create(rows, batch_size=BATCH)
        rows.clear()


def seed(*, users: int, stdout) -> None:
    """Create ``users`` demo account holders (password demo-user-2026) and their data in every dataset."""
    from allauth.account.models import EmailAddress

    User = get_user_model()
    existing = Profile.objects.count()
    if existing >= users:
        stdout.write(f"demo: {existing} demo users already present.")
        return
    rng = random.Random(2026 + existing)
    now = timezone.now()
    password = make_password(DEMO_PASSWORD)
    start = existing + 1
    new_users = []
    for i in range(start, users + 1):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        local = f"{first}.{last}.{i}".lower().replace(" ", "")
        new_users.append(
            User(
                username=local,
                email=f"{local}@example.com",
                first_name=first,
                last_name=last,
                password=password,
                date_joined=_when(rng, now),
                last_login=now - timedelta(days=rng.randint(0, 400)),
            )
        )
    with transaction.atomic():
        User.objects.bulk_create(new_users, batch_size=BATCH)
        created = list(User.objects.filter(username__in=[u.username for u in new_users]).order_by("pk"))
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in created], batch_size=BATCH
        )
        counts = _seed_datasets(created, start, rng, now)
        _seed_marketing_consents(created, rng)
    counts["web shop orders (connected system)"] = seed_shop(people=created)
    stdout.write(
        f"demo: {len(created)} users ({DEMO_PASSWORD}), e.g. {created[0].email}; "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )


def _seed_datasets(created, start: int, rng: random.Random, now) -> dict:
    counts = dict.fromkeys(
        [
            "profiles",
            "subscriptions",
            "conversations",
            "messages",
            "comments",
            "traffic",
            "orders",
            "invoices",
            "telemetry",
            "files",
        ],
        0,
    )
    profiles, subs, comments, traffic, telemetry, files = [], [], [], [], [], []
    conversations: list[tuple[SupportConversation, list[SupportMessage]]] = []
    orders: list[tuple[Order, Invoice | None]] = []
    upload_root = Path(settings.PRIVATE_ROOT)
    order_no = Order.objects.count()
    for offset, user in enumerate(created):
        index = start + offset
        name = f"{user.first_name} {user.last_name}"
        company = COMPANIES[index % len(COMPANIES)]
        joined = user.date_joined
        profiles.append(
            Profile(
                user=user,
                job_title=rng.choice(TITLES),
                company=company,
                time_zone=rng.choice(ZONES),
                phone=f"+32 470 {index:06d}" if index % 3 else None,
                created_at=joined,
            )
        )
        if rng.random() < 0.6:
            unsub = _when(rng, now) if rng.random() < 0.2 else None
            subs.append(
                NewsletterSubscription(
                    user=user, email=user.email, subscribed_at=joined, unsubscribed_at=unsub, signup_ip=_ip_for(index)
                )
            )
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            opened = _when(rng, now)
            closed = opened + timedelta(days=rng.randint(0, 20)) if rng.random() < 0.8 else None
            conv = SupportConversation(
                user=user,
                email=user.email,
                customer_name=name,
                subject=rng.choice(SUBJECTS),
                status="closed" if closed else "open",
                opened_at=opened,
                closed_at=closed,
            )
            msgs = [
                SupportMessage(
                    from_customer=k % 2 == 0,
                    sender_email=user.email if k % 2 == 0 else "support@example.com",
                    body=(f"Hello, this is {name} from {company}. " if k == 0 else "")
                    + ("Thanks for your help." if k % 2 == 0 else "We are looking into it."),
                    sent_at=opened + timedelta(hours=k * 5),
                )
                for k in range(rng.randint(1, 4))
            ]
            conversations.append((conv, msgs))
        for _ in range(rng.choice([0, 0, 1, 2])):
            comments.append(
                BlogComment(
                    user=user,
                    author_name=name,
                    author_email=user.email,
                    ip_address=_ip_for(index, 1),
                    post_slug=rng.choice(["release-2-0", "tips", "security-update", "roadmap"]),
                    body="Great post, thanks!",
                    created_at=_when(rng, now),
                )
            )
        for _ in range(rng.randint(2, 10)):
            traffic.append(
                TrafficLog(
                    user=user,
                    ip_address=_ip_for(index, rng.randint(0, 2)),
                    path=rng.choice(PATHS),
                    user_agent=rng.choice(AGENTS),
                    created_at=_when(rng, now),
                )
            )
        for _ in range(rng.choice([0, 1, 1, 2])):
            order_no += 1
            product, amount = rng.choice(PRODUCTS)
            placed = _when(rng, now)
            address = f"{company}\nAvenue Example {index % 200 + 1}\n{1000 + index % 8000} Brussels"
            order = Order(
                user=user,
                number=f"ORD-{order_no:07d}",
                billing_name=name,
                billing_address=address,
                product=product,
                amount_cents=amount,
                placed_at=placed,
            )
            invoice = Invoice(
                user=user,
                number=f"INV-{order_no:07d}",
                billing_company=company,
                billing_address=address,
                vat_number=f"BE0{index:09d}",
                amount_cents=amount,
                issued_at=placed,
            )
            orders.append((order, invoice))
        if index % 4 == 0:
            serial = f"SN-{index:08d}"
            model_name = rng.choice(DEVICES)
            for k in range(rng.randint(2, 8)):
                telemetry.append(
                    DeviceTelemetry(
                        user=user,
                        device_model=model_name,
                        serial_number=serial,
                        software_version=f"2.{k % 5}.{rng.randint(0, 9)}",
                        battery_level=rng.randint(5, 100),
                        recorded_at=_when(rng, now),
                    )
                )
        if offset < 200 or rng.random() < 0.02:
            rel = f"demo/uploads/{user.pk}/notes-{index}.txt"
            path = upload_root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            content = f"Site survey notes by {name}, {company}.\nRoom 1: 3 sensors.\n".encode()
            path.write_bytes(content)
            files.append(
                UploadedFile(
                    user=user,
                    file=rel,
                    original_name=f"notes-{index}.txt",
                    content_type="text/plain",
                    size=len(content),
                    uploaded_at=_when(rng, now),
                )
            )
        for model, rows, key in (
            (Profile, profiles, "profiles"),
            (NewsletterSubscription, subs, "subscriptions"),
            (BlogComment, comments, "comments"),
            (TrafficLog, traffic, "traffic"),
            (DeviceTelemetry, telemetry, "telemetry"),
            (UploadedFile, files, "files"),
        ):
            if len(rows) >= BATCH:
                counts[key] += len(rows)
                _flush(model, rows)
        if len(conversations) >= BATCH // 4:
            _flush_conversations(conversations, counts)
        if len(orders) >= BATCH // 2:
            _flush_orders(orders, counts)
    for model, rows, key in (
        (Profile, profiles, "profiles"),
        (NewsletterSubscription, subs, "subscriptions"),
        (BlogComment, comments, "comments"),
        (TrafficLog, traffic, "traffic"),
        (DeviceTelemetry, telemetry, "telemetry"),
        (UploadedFile, files, "files"),
    ):
        counts[key] += len(rows)
        _flush(model, rows, force=True)
    _flush_conversations(conversations, counts)
    _flush_orders(orders, counts)
    # Anonymous visitors: traffic without an account, from documentation-only addresses.
    rng2 = random.Random(7)
    anon = [
        TrafficLog(
            ip_address=f"192.0.2.{rng2.randint(1, 254)}",
            path=rng2.choice(PATHS),
            user_agent=rng2.choice(AGENTS),
            created_at=_when(rng2, now),
        )
        for _ in range(len(created) // 2)
    ]
    TrafficLog.objects.bulk_create(anon, batch_size=BATCH)
    counts["traffic"] += len(anon)
    return counts


def _flush_conversations(conversations, counts) -> None:
    if not conversations:
        return
    SupportConversation.objects.bulk_create([c for c, _ in conversations], batch_size=BATCH)
    messages = []
    for conv, msgs in conversations:
        for m in msgs:
            m.conversation = conv
            messages.append(m)
    SupportMessage.objects.bulk_create(messages, batch_size=BATCH)
    counts["conversations"] += len(conversations)
    counts["messages"] += len(messages)
    conversations.clear()


def _flush_orders(orders, counts) -> None:
    if not orders:
        return
    Order.objects.bulk_create([o for o, _ in orders], batch_size=BATCH)
    invoices = []
    for order, invoice in orders:
        if invoice is not None:
            invoice.order = order
            invoices.append(invoice)
    Invoice.objects.bulk_create(invoices, batch_size=BATCH)
    counts["orders"] += len(orders)
    counts["invoices"] += len(invoices)
    orders.clear()


def _seed_marketing_consents(created, rng: random.Random) -> None:
    """About half the demo users agreed to marketing e-mail (so the newsletter send has recipients)."""
    from consent.models import Purpose, PurposeConsent, PurposeConsentSource

    purpose = Purpose.objects.filter(key="marketing").first()
    version = purpose.current_version() if purpose else None
    if version is None:
        return
    rows = [
        PurposeConsent(user=u, purpose=purpose, version=version, granted=True, source=PurposeConsentSource.SIGNUP)
        for u in created
        if rng.random() < 0.5
    ]
    PurposeConsent.objects.bulk_create(rows, batch_size=BATCH)
