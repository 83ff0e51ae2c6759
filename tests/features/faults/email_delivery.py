"""Faults of the @email_delivery family: the seeds' variables (SMTP_FROM, FRONTEND_DOMAIN, SMTP_PORT) and the
sandbox's switches, each failing exactly its steps of ``features/email_delivery/``."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import Failure, Fault

ARRIVAL = "test_the_receipt_arrives_within_the_delivery_objective_for_the_order_paid"
RECEIPT = "test_the_receipt_comes_from_the_platform_fully_rendered"
LINKS = "test_the_receipts_links_lead_to_the_frontend_and_work"
SECRET = "test_the_receipt_carries_no_secret_and_reads_in_any_mail_client"
STAFF = "test_the_staff_hear_of_the_paid_order_within_ten_seconds"
REPLAY = "test_a_replayed_payment_sends_no_second_receipt"
BROWSER = "test_the_receipt_shows_in_a_browser_and_its_link_opens_the_order"
HISTORY = "test_the_notification_history_shows_the_receipt_as_sent"
TEST_NOTIFICATION = "test_a_test_notification_arrives_and_its_resend_arrives_once_more"
WAIT_TEST = 'When I wait for an email to "{{test_email}}" with "Test customer notification" in its subject'

WAIT_RECEIPT = 'When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject'
WAIT_STAFF = 'When I wait for an email to "staff@example.com" with "New order {{order_short}} paid" in its subject'
NO_RECEIPT = "with 'Your receipt' in its subject arrived within 2 s"
SMTP_DOWN = "the platform's history says status: failed, error_type: connection"  # the diagnosis, on the same line


@dataclass(frozen=True)
class EmailFault(Fault):
    #: email_delivery fields the run's environment file sets instead (a shorter wait where nothing will arrive)
    environment: dict[str, object] = field(default_factory=dict)
    family: str = "email_delivery"
    args: tuple[str, ...] = ("-m", "email_delivery")


FAULTS = [
    # one round: each fails a scenario of its own
    EmailFault("slow_email", {"SANDBOX_FAULTS": "slow_email"}, why="The worker holds every receipt 6 s.",
               failures={ARRIVAL: Failure("Then the email arrived within the \"email_delivery_s\" objective",
                                          "within the 'email_delivery_s' objective of 5 s, it took")}),
    EmailFault("SMTP_FROM", {"SMTP_FROM": "Orders <no-reply@shop.example>"}, why="The emails come from the wrong sender.",
               failures={RECEIPT: Failure('Then the email is from "Notification Platform <notifications@example.com>"',
                                          "from Notification Platform <notifications@example.com>, got it from "
                                          "Orders <no-reply@shop.example>")}),
    EmailFault("FRONTEND_DOMAIN", {"FRONTEND_DOMAIN": "https://notifications.example.com"},
               why="The emails' links point at another domain than the frontend's.",
               failures={LINKS: Failure('Then every link in the email points at the "frontend" service',
                                        "do not, first: https://notifications.example.com/orders/"),
                         TEST_NOTIFICATION: Failure('Then every link in the email points at the "frontend" service',
                                                    "do not, first: https://notifications.example.com/settings/")}),
    EmailFault("token_in_email", {"SANDBOX_FAULTS": "token_in_email"},
               why="The receipt carries a debugging line with a session token.",
               failures={SECRET: Failure("Then the email carries no secret",
                                         "found a JSON Web Token outside a link")}),
    EmailFault("no_duplicate_prevention", {"SANDBOX_FAULTS": "no_duplicate_prevention"},
               why="A replayed payment sends the receipt again.",
               failures={REPLAY: Failure('Then exactly 1 email with "Your receipt" in its subject arrived',
                                         "with 'Your receipt' in the subject within 3 s, got 2")}),
    EmailFault("email_html_blank", {"SANDBOX_FAULTS": "email_html_blank"},
               why="The receipt's HTML is an image without text: a reader who blocks images sees nothing.",
               failures={BROWSER: Failure("Then the email renders in the browser", "to show text in a browser, it "
                                                                                  "shows none")}),
    # a second round
    EmailFault("email_wrong_total", {"SANDBOX_FAULTS": "email_wrong_total"},
               why="The receipt shows the first item's price as the total paid.",
               failures={ARRIVAL: Failure('Then the email says "25.00 USD"', "to say '25.00 USD', it does not")}),
    EmailFault("email_template_typo", {"SANDBOX_FAULTS": "email_template_typo"},
               why="The receipt's templates name variables the worker does not fill: the items show as placeholders.",
               failures={RECEIPT: Failure("Then the email is fully rendered",
                                          "unrendered placeholder(s): '${item_rows}' in the HTML")}),
    EmailFault("email_link_broken", {"SANDBOX_FAULTS": "email_link_broken"},
               why="The receipt's link leads to a page that does not exist.",
               failures={LINKS: Failure("Then every link in the email works", "do not, first: "),
                         BROWSER: Failure('When I remember the link matching "(/orders/[0-9a-f-]+)" in the email as '
                                          '"order_page"', "expected a link matching /(/orders/[0-9a-f-]+)/")}),
    EmailFault("email_html_only", {"SANDBOX_FAULTS": "email_html_only"},
               why="The receipt has no plain-text part, only HTML.",
               failures={SECRET: Failure("Then the email has a plain-text and an HTML part",
                                         "the plain-text part is missing or empty")}),
    # nothing arrives at all
    EmailFault("SMTP_PORT=1", {"SMTP_PORT": "1"}, environment={"wait_s": 2},
               why="The worker cannot reach its SMTP server: nothing arrives, and the history says why.",
               failures={
                   **{name: Failure(WAIT_RECEIPT, SMTP_DOWN) for name in (ARRIVAL, RECEIPT, LINKS, SECRET, REPLAY,
                                                                         BROWSER, HISTORY)},
                   STAFF: Failure(WAIT_STAFF, SMTP_DOWN),
                   TEST_NOTIFICATION: Failure(WAIT_TEST, SMTP_DOWN),
               }),
]
