"""One audit trail for the whole portal: who changed which object, how, when, and for which request.

The bottom layer: it imports only ``core`` and Django, so every app may write to it. Write through
``audit.services.record_event``; read through ``audit.selectors``.
"""
