"""@security (roadmap): TLS, headers as scanners grade them, exposed files, default credentials.
No steps yet."""

from ._family import Family

FAMILY = Family(name="security", description="security posture")
