@rate_limit
Feature: Rate limits are enforced as the deployment promises
  Every limit of the environment's rate_limits table, each burst spending only its test identity's quota and
  never more than limit + 2 requests.
  Checklist: "Rate limiting working correctly", "Rate limits in place (100 req/min per user)",
  "6th request should return 429 Too Many Requests".

  @checklist:rate-limits
  Scenario: Every limit lets exactly its number through and refuses the next
    When I send a burst to every rate limit of the environment
    Then every rate limit let exactly its limit through and refused the next request with 429

  @checklist:rate-limits
  Scenario: Every refusal says when to retry, and the headers count down
    When I send a burst to every rate limit of the environment
    Then every refusal says when to retry and the promised headers count down

  @checklist:rate-limits
  Scenario: Every limit counts each user apart
    When I send a burst to every rate limit of the environment
    Then another identity is not refused once a limit is spent

  @checklist:rate-limits
  Scenario: A concurrent burst gets no more than the limit through
    When I send a concurrent burst to every rate limit of the environment
    Then no concurrent burst got more than its limit through

  @slow @checklist:rate-limits
  Scenario: Requests go through again once the window has passed
    When I send a burst to every rate limit of the environment
    And I wait out every rate limit's window
    Then every rate limit lets requests through again
