# Hand-written grounded cases, read by ../make_grounded.py (which defines g).
# multi_record
g("multi_record", "What are the totals of orders 1001 and 1002?",
  ['[{"order": 1001, "total": 84.20, "status": "shipped"}, {"order": 1002, "total": 312.75, "status": "processing"}, {"order": 1003, "total": 19.99, "status": "cancelled"}]'],
  "Order 1001 totals $84.20 and has shipped; order 1002 totals $312.75 and is still processing.", "values from the right records")
g("multi_record", "Which region has the highest latency?",
  ['region,p95_ms,error_rate\neu-west-1,142,0.002\nus-east-1,188,0.004\nap-south-1,231,0.003'],
  "ap-south-1 has the highest p95 latency at 231 ms; us-east-1 has the highest error rate at 0.4%.", "max correctly picked")
g("multi_record", "What are the due dates for the two open invoices?",
  ['[{"id": "INV-7", "status": "open", "due": "2024-07-15"}, {"id": "INV-8", "status": "paid", "due": "2024-06-30"}, {"id": "INV-9", "status": "open", "due": "2024-08-01"}]'],
  "The open invoices are INV-7, due July 15, 2024, and INV-9, due August 1, 2024.", "correct records selected")
g("multi_record", "Who owns each service?",
  ['{"services": [{"name": "auth", "owner": "team-identity", "tier": 1}, {"name": "search", "owner": "team-discovery", "tier": 2}, {"name": "billing", "owner": "team-payments", "tier": 1}]}'],
  "auth belongs to team-identity, search to team-discovery and billing to team-payments. auth and billing are tier 1.", "owners matched")
g("multi_record", "How much stock is in each warehouse for SKU MUG-12?",
  ['[{"sku": "MUG-12", "warehouse": "Lyon", "qty": 120}, {"sku": "MUG-12", "warehouse": "Madrid", "qty": 0}, {"sku": "PLT-4", "warehouse": "Lyon", "qty": 75}]'],
  "MUG-12 has 120 units in Lyon and none in Madrid.", "ignores PLT-4 row")
g("multi_record", "Compare the two candidates' offers.",
  ['[{"candidate": "A. Novak", "base": 145000, "equity_units": 4000}, {"candidate": "R. Singh", "base": 152000, "equity_units": 3000}]'],
  "A. Novak's offer is $145,000 base with 4,000 equity units; R. Singh's is $152,000 base with 3,000 units.", "values not swapped")
g("multi_record", "What temperature will it be in Oslo and Rome tomorrow?",
  ['{"forecast": [{"city": "Oslo", "date": "2024-11-05", "high_c": 4, "low_c": -2}, {"city": "Rome", "date": "2024-11-05", "high_c": 18, "low_c": 11}]}'],
  "Tomorrow Oslo will range from -2°C to 4°C, and Rome from 11°C to 18°C.", "highs/lows per city")
g("multi_record", "Which of my subscriptions renew this month?",
  ['[{"name": "Cloud Storage 2TB", "renews": "2024-09-12", "price": 9.99}, {"name": "News+", "renews": "2024-10-03", "price": 12.99}, {"name": "Music Family", "renews": "2024-09-28", "price": 16.99}]', '{"today": "2024-09-01"}'],
  "Two renew in September: Cloud Storage 2TB on the 12th ($9.99) and Music Family on the 28th ($16.99).", "News+ renews in October")
g("multi_record", "What's the build status of each branch?",
  ['main: passed (build 5120)\nrelease/2.4: failed (build 5118)\nfeature/search: running (build 5121)'],
  "main passed in build 5120, release/2.4 failed in build 5118, and feature/search is still running (build 5121).", "statuses per branch")
g("multi_record", "Which employees are on leave next week?",
  ['[{"name": "Ines Duarte", "leave": {"from": "2024-05-13", "to": "2024-05-17"}}, {"name": "Paul Meyer", "leave": null}, {"name": "Aiko Sato", "leave": {"from": "2024-05-16", "to": "2024-05-20"}}]', '{"next_week": "2024-05-13..2024-05-17"}'],
  "Ines Duarte is off all of next week, and Aiko Sato is off from Thursday the 16th. Paul Meyer has no leave booked.", "2024-05-16 is Thursday")

# status
g("status", "Has invoice INV-3391 been paid?",
  ['{"invoice": "INV-3391", "status": "unpaid", "due": "2024-05-20", "amount": 640.00}'],
  "No, INV-3391 is still unpaid. $640.00 is due on May 20, 2024.", "status unpaid restated")
g("status", "Has my order shipped?",
  ['{"order": "ORD-5120", "status": "pending", "payment": "authorized"}'],
  "Not yet: ORD-5120 hasn't shipped. It's pending, although the payment has been authorized.", "pending = not shipped")
g("status", "Did the database migration succeed?",
  ['{"job": "migrate-2024-03", "state": "SUCCEEDED", "rows_migrated": 881204}'],
  "Yes, migrate-2024-03 succeeded and migrated 881,204 rows.", "SUCCEEDED restated")
g("status", "Is Dana's account active?",
  ['{"user": "dana.w", "active": false, "deactivated_reason": "offboarded"}'],
  "No, Dana's account (dana.w) is deactivated because she was offboarded.", "active false")
g("status", "Is the blue hoodie in stock in medium?",
  ['{"product": "Hoodie", "variants": [{"color": "blue", "size": "M", "in_stock": false}, {"color": "blue", "size": "L", "in_stock": true}]}'],
  "The blue hoodie is out of stock in medium, but it's available in large.", "M false, L true")
g("status", "Is two-factor authentication enabled for me?",
  ['{"user": "k.ito", "mfa": {"totp": true, "sms": false}}'],
  "Yes, you have two-factor authentication enabled through an authenticator app (TOTP); SMS codes are off.", "totp true, sms false")
g("status", "Did the payment go through?",
  ['{"payment_intent": "pi_3Q", "status": "requires_payment_method", "last_error": "card_declined"}'],
  "No, the payment didn't go through: the card was declined, so a different payment method is needed.", "not succeeded")
g("status", "Is the on-call pager acknowledged?",
  ['{"incident": "P-7741", "status": "acknowledged", "acknowledged_by": "Leo Brandt"}'],
  "Yes, Leo Brandt has acknowledged P-7741.", "acknowledged")
g("status", "Is the visa application approved?",
  ['{"application": "VA-22013", "status": "under_review", "submitted": "2024-04-02"}'],
  "Not yet. VA-22013 is still under review; it was submitted on April 2, 2024.", "under review = not approved")
g("status", "Is the staging environment locked?",
  ['{"env": "staging", "locked": true, "locked_by": "release-bot", "reason": "release 4.2 verification"}'],
  "Yes, staging is locked by release-bot for the release 4.2 verification.", "locked true")
g("status", "Has the contract been signed by both parties?",
  ['{"envelope": "ENV-913", "signers": [{"name": "Acme Inc.", "signed": true}, {"name": "Zeta GmbH", "signed": false}]}'],
  "Not yet: Acme Inc. has signed ENV-913, but Zeta GmbH hasn't.", "one signed, one not")
g("status", "Is the feature enabled in production?",
  ['{"flag": "new_search", "environments": {"staging": true, "production": false}}'],
  "No, new_search is off in production; it's only enabled in staging.", "production false")
