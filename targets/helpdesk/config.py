"""The helpdesk's configuration: environment variables, seeded accounts and faults (bad releases)."""
from __future__ import annotations

import os
from collections.abc import Mapping

# each fault is a realistic bad release; HELPDESK_FAULTS selects them (comma-separated)
FAULTS: dict[str, str] = {
    "database_down": "the release points at a database it cannot open: every call that needs the database "
                     "answers 500, while the health check still says true",
    "reset_token_reusable": "a password-reset token works more than once",
    "signup_email_missing": "signup succeeds but no 'new account' email is sent",
    "cors_reflect_any": "CORS reflects any Origin, with credentials",
    "token_in_url": "after login the single-page app puts the access token in the URL",
    "login_form_broken": "the login form's submit does nothing",
}

DEFAULT_SUPERUSER = ("admin@example.com", "changethis-admin-1", "Helpdesk Admin")
DEFAULT_USER = ("alice@example.com", "changethis-alice-1", "Alice Example")


class ConfigError(ValueError):
    """A configuration the helpdesk refuses to start with."""


def parse_faults(raw: str | None) -> list[str]:
    """The fault names in ``raw`` (comma-separated), sorted; an unknown name is a ConfigError."""
    names = sorted({f.strip() for f in (raw or "").split(",") if f.strip()})
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ConfigError(f"HELPDESK_FAULTS: unknown fault(s) {', '.join(unknown)}; "
                          f"known faults: {', '.join(sorted(FAULTS))}")
    return names


def accounts(env: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """The seeded accounts: a superuser and a normal user (emails and passwords from the environment)."""
    env = os.environ if env is None else env
    su_email, su_password, su_name = DEFAULT_SUPERUSER
    u_email, u_password, u_name = DEFAULT_USER
    return {
        "superuser": {"email": env.get("FIRST_SUPERUSER") or su_email,
                      "password": env.get("FIRST_SUPERUSER_PASSWORD") or su_password,
                      "full_name": su_name, "role": "superuser"},
        "user": {"email": env.get("HELPDESK_USER_EMAIL") or u_email,
                 "password": env.get("HELPDESK_USER_PASSWORD") or u_password,
                 "full_name": u_name, "role": "user"},
    }
