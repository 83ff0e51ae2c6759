@security
Feature: Cookies carry the attributes their kind requires
  Session cookies are HttpOnly and SameSite, every cookie is Secure on HTTPS, and the __Host- and __Secure-
  prefixes keep their promises.
  Checklist: "HTTPS enforced", "Security headers present".

  @checklist:secure-cookies
  Scenario: The sign-in and the pages set cookies with their attributes
    When I collect the cookies set by the sign-in of "customer" and the "frontend" pages
    Then every cookie carries the attributes its kind requires
