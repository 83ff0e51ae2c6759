@data_integrity
Feature: The API tells what the database holds
  Real records, sampled: what the API reports about them (order totals and statuses, each account's unread
  count) equals what the database holds, so a release that computes, caches or filters them wrongly is caught.
  Checklist: "100% of orders intact", "Notification badge shows the unread count", "Order history intact".

  Scenario: Orders read through the API are the orders in the database
    When I sample the "order_totals" records and ask the API about each
    Then the API agrees with the database on every sampled record

  Scenario: Every account's unread count is its unread notifications
    When I sample the "unread_counts" records and ask the API about each
    Then the API agrees with the database on every sampled record
