@security
Feature: TLS is current on every host
  Each host the environment lists (tls.hosts) presents a certificate that verifies for its name and does not expire
  within the margin, and accepts only TLS 1.2 or newer (or what tls.min_version says) without weak cipher suites.
  Every host is scanned once per run (sslyze enumerates the protocols and suites).
  Checklist: "SSL certificates current (valid for > 30 days, all domains covered)", "Use HTTPS only (TLS 1.2+)".

  @checklist:tls-certificates
  Scenario: TLS certificates verify for their hosts
    When I scan the TLS of every host the environment lists
    Then every certificate verifies for its host

  @checklist:tls-certificates
  Scenario: TLS certificates are valid beyond the margin
    When I scan the TLS of every host the environment lists
    Then no certificate expires within the environment's margin

  @checklist:tls-protocols
  Scenario: TLS hosts accept only current protocols and strong cipher suites
    When I scan the TLS of every host the environment lists
    Then every host accepts only the allowed TLS versions and no weak cipher suite
