"""Download audit rows written before truncation keep only the network part of their address."""

import ipaddress

from django.db import migrations


def _truncate(ip: str) -> str:
    # A copy of consent.services.truncate_ip as of this migration (IPv4 /24, IPv6 /48): migrations must not
    # change meaning when the app's code does.
    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False).network_address)


def truncate_download_ips(apps, schema_editor):
    ExportDownload = apps.get_model("registry", "ExportDownload")
    for row in ExportDownload.objects.exclude(ip="").only("pk", "ip").iterator(chunk_size=2000):
        truncated = _truncate(row.ip)
        if truncated != row.ip:
            ExportDownload.objects.filter(pk=row.pk).update(ip=truncated)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_crash_recovery"),
    ]

    operations = [
        migrations.RunPython(truncate_download_ips, migrations.RunPython.noop, elidable=True),
    ]
