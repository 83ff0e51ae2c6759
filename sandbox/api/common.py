"""What the api's routers share: its settings (read from the environment), the release it reports, the e-mail field
type, its logger and the id check behind every "... not found" of a malformed id (the database_unreachable_from_api
fault acts here, on the database URL)."""

import logging
import uuid
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from fastapi import HTTPException
from pydantic import Field

from .. import config

log = logging.getLogger("api")
VERSION = config.RELEASE_VERSION
POWERED_BY = "Express"  # what the x_powered_by fault announces (Express's default, as when Helmet is left out)
EmailStr = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class Settings:
    def __init__(self) -> None:
        self.faults = config.faults()
        self.database_url = config.env_str("SANDBOX_DATABASE_URL") or config.env_str("DATABASE_URL")
        if "database_unreachable_from_api" in self.faults:  # deployed with a wrong database address (a closed port)
            self.database_url = closed_port(self.database_url)
        self.jwt_secret = config.env_str("JWT_SECRET", "sandbox-dev-secret-change-me-please-0123456789")
        self.jwt_algorithm = config.env_str("JWT_ALGORITHM", "HS256")
        self.jwt_expires = config.env_int("JWT_EXPIRES_SECONDS", 3600)
        self.service_token = config.env_str("SERVICE_TOKEN", "sandbox-service-token")
        frontend = config.env_str("SANDBOX_FRONTEND_URL", "http://127.0.0.1:3000")
        # CORS_ORIGINS may name the frontend's origin as ${SANDBOX_FRONTEND_URL} (its port is chosen at start), as
        # in "${SANDBOX_FRONTEND_URL},https://attacker.example"
        origins = config.env_str("CORS_ORIGINS", frontend).replace("${SANDBOX_FRONTEND_URL}", frontend)
        self.cors_origins = [o.strip().rstrip("/") for o in origins.split(",") if o.strip()]
        self.enable_docs = config.env_bool("ENABLE_DOCS", False)
        self.debug = config.env_bool("DEBUG", False)
        self.log_level = config.env_str("LOG_LEVEL", "WARNING").upper()
        self.environment = config.env_str("ENVIRONMENT", "production")
        self.maintenance = config.env_bool("MAINTENANCE_MODE", False)
        self.rate_limit = config.env_int("RATE_LIMIT_PER_MINUTE", 100)
        self.rate_window_s = max(1, config.env_int("RATE_LIMIT_WINDOW_SECONDS", 60))  # the window of that limit
        self.test_email_limit = config.env_int("TEST_EMAIL_RATE_LIMIT_PER_MINUTE", 5)


def closed_port(dsn: str) -> str:
    """``dsn`` with its host and port replaced by 127.0.0.1:1, where nothing listens (user, password and database
    kept): every connection is refused at once."""
    parts = urlsplit(dsn)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=(credentials + "@" if credentials else "") + "127.0.0.1:1"))


def check_uuid(v: str, what: str = "Notification") -> str:
    try:
        return str(uuid.UUID(v))
    except ValueError:
        raise HTTPException(404, f"{what} not found")
