@security
Feature: Default and weak secrets are refused
  A token signed with a secret from a tutorial, a framework's example or an .env template, an unsigned token and a
  tampered one are refused; so is a default service token; and a sign-in's token does not live longer than the
  environment allows. No secret of the deployment is needed: forged tokens copy a real sign-in's claims.
  Checklist: "Change all default secrets", "JWT secret is strong and unique", "Generate unique SERVICE_TOKEN",
  "Service token validation working".

  @checklist:jwt-secret-strong
  Scenario: Tokens signed with well-known secrets are refused
    When I send tokens forged with well-known secrets in the name of "admin"
    Then every forged token is refused

  @checklist:service-token-unique @mutating
  Scenario: Default service tokens are refused
    When I send the well-known default service tokens
    Then every default service token is refused

  @checklist:token-lifetime
  Scenario: Sign-in tokens expire within the environment's bound
    Then the token of "customer" expires within the environment's bound
