"""@smoke: is the release up and sane? Services and health, sign-in, pages in a real browser, static
assets, security headers, CORS, docs and debug off, metrics, routes and identities, the live release."""

from ._family import Family

FAMILY = Family(
    name="smoke",
    description="post-deploy smoke checks: services up, login, pages, headers, configuration",
    step_modules=("postdeploy.steps.requests", "postdeploy.steps.responses", "postdeploy.steps.health",
                  "postdeploy.steps.identities", "postdeploy.steps.routes", "postdeploy.steps.exposure",
                  "postdeploy.steps.cors", "postdeploy.steps.assets", "postdeploy.steps.metrics",
                  "postdeploy.steps.browser", "postdeploy.steps.values"),
)
