"""Helpdesk: a tiny FastAPI + single-page-app target, shaped like the FastAPI "full-stack template".

Components (each its own process, bound to 127.0.0.1): the API (``targets.helpdesk.api``), the single-page
frontend (``targets.helpdesk.frontend``) and MailDev (SMTP capture). Start and stop them with
``targets.helpdesk.launcher`` or ``python -m targets.helpdesk up|down|status --state-dir DIR``.
See docs/targets.md.
"""
