@email_delivery @mutating
Feature: A paid order sends its emails, once, on time, rendered and safe
  The order-email release: a test order placed and paid by the test customer, to an address of this run's own,
  sends the customer a receipt and the staff a notification; a replayed payment sends nothing again.
  Checklist: "Customers receiving receipts immediately after payment", "Staff receiving order notifications in
  <10 seconds", "Email delivery p95 < 5 s", "<1% duplicate notification rate", "Email notifications sending".

  Background:
    Given I am signed in as "customer"
    And a new email address "customer_email"
    When I send a POST request to "/api/v1/orders" on the "api" service with the JSON body:
      """
      {"items": [{"sku": "PD-{{run_id}}", "name": "Post-deploy check", "quantity": 2, "unit_price_cents": 1250}],
       "customer_email": "{{customer_email}}"}
      """
    And I remember the JSON at "$.id" as "order_id"
    And I clean up afterwards with a DELETE request to "/api/v1/orders/{{order_id}}" on the "api" service
    And I send a POST request to "/api/v1/orders/{{order_id}}/pay" on the "api" service with the JSON body:
      """
      {"transaction_id": "pd-{{run_id}}-{{order_id}}"}
      """

  @checklist:customer-receipt
  Scenario: The receipt arrives within the delivery objective, for the order paid
    When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    Then the email arrived within the "email_delivery_s" objective
    And the email says "{{order_id}}"
    And the email says "25.00 USD"

  @checklist:customer-receipt
  Scenario: The receipt comes from the platform, fully rendered
    When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    Then the email is from "Notification Platform <notifications@example.com>"
    And the email is fully rendered

  @checklist:customer-receipt
  Scenario: The receipt's links lead to the frontend and work
    When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    Then every link in the email points at the "frontend" service
    And every link in the email works

  @checklist:customer-receipt
  Scenario: The receipt carries no secret and reads in any mail client
    When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    Then the email carries no secret
    And the email has a plain-text and an HTML part

  @checklist:staff-notification
  Scenario: The staff hear of the paid order within ten seconds
    When I remember the text matching "\"id\":\"([0-9a-f]{8})" in the response body as "order_short"
    And I wait for an email to "staff@example.com" with "New order {{order_short}} paid" in its subject
    Then the email arrived within the "staff_notification_s" objective
    And the email says "{{order_id}}"
    And the email is fully rendered

  @checklist:duplicates
  Scenario: A replayed payment sends no second receipt
    When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    And I send a POST request to "/api/v1/orders/{{order_id}}/pay" on the "api" service with the JSON body:
      """
      {"transaction_id": "pd-{{run_id}}-{{order_id}}"}
      """
    And I collect the emails to "{{customer_email}}" for 3 seconds
    Then exactly 1 email with "Your receipt" in its subject arrived

  @browser @checklist:receipt-link
  Scenario: The receipt shows in a browser and its link opens the order
    When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    Then the email renders in the browser
    When I remember the link matching "(/orders/[0-9a-f-]+)" in the email as "order_page"
    And I sign in through the browser as "customer"
    And I open the page "{{order_page}}"
    Then the page shows the heading "Your order"

  @checklist:history-sent
  Scenario: The notification history shows the receipt as sent
    When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    Given I am signed in as "admin"
    When I send a GET request to "/api/v1/notifications/history" on the "api" service with the query:
      | name      | value |
      | type      | customer |
      | page_size | 100   |
    Then the response status is 200
    And the JSON at "$.items[?@.recipient_email == '{{customer_email}}'].status" is ["sent"]
