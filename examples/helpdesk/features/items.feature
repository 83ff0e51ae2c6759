@smoke @mutating
Feature: Items are stored and removed
  A test item named with the run id is created, read back by its id and removed, whatever happens.

  @severity:critical
  Scenario: A created item can be read back
    Given I am signed in as "user"
    When I send a POST request to "/api/v1/items/" on the "api" service with the JSON body:
      """
      {"title": "postdeploy {{run_id}}", "description": "created by a post-deploy check"}
      """
    Then the response status is 200
    When I remember the JSON at "$.id" as "item_id"
    And I clean up afterwards with a DELETE request to "/api/v1/items/{{item_id}}" on the "api" service
    When I send a GET request to "/api/v1/items/{{item_id}}" on the "api" service
    Then the response status is 200
    And the JSON at "$.title" is "postdeploy {{run_id}}"
