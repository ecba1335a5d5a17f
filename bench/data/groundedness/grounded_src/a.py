# Hand-written grounded cases, read by ../make_grounded.py (which defines g).

# exact_copy
g("exact_copy", "What's the status of order ORD-48213?",
  ['{"order_id": "ORD-48213", "status": "shipped", "carrier": "UPS", "tracking": "1Z999AA10123456784", "total_cents": 12850}'],
  "Order ORD-48213 has shipped with UPS. The tracking number is 1Z999AA10123456784.", "status, carrier and tracking copied")
g("exact_copy", "Which plan is acme-corp on?",
  ['{"account": "acme-corp", "plan": "Business", "seats": 45, "renews_on": "2025-03-01"}'],
  "acme-corp is on the Business plan with 45 seats, renewing on 2025-03-01.", "plan, seats, renewal date verbatim")
g("exact_copy", "Did the nightly build pass?",
  ['{"pipeline": "nightly", "run": 8812, "result": "failed", "failed_job": "integration-tests", "commit": "a3f9c21"}'],
  "No. Nightly run 8812 failed in the integration-tests job (commit a3f9c21).", "result failed, job and commit verbatim")
g("exact_copy", "Who is the assignee on ticket SUP-3312?",
  ['{"key": "SUP-3312", "summary": "Refund not received", "assignee": "Priya Natarajan", "priority": "High"}'],
  "SUP-3312 (\"Refund not received\") is assigned to Priya Natarajan and marked High priority.", "assignee and priority verbatim")
g("exact_copy", "What is the latest version of the requests package?",
  ['{"name": "requests", "latest": "2.32.3", "license": "Apache-2.0", "requires_python": ">=3.8"}'],
  "The latest release of requests is 2.32.3. It is Apache-2.0 licensed and needs Python >=3.8.", "version, license verbatim")
g("exact_copy", "What's the weather in Lisbon right now?",
  ['{"city": "Lisbon", "temp_c": 21, "condition": "Partly cloudy", "wind_kph": 14, "humidity": 62}'],
  "In Lisbon it is 21°C and partly cloudy, with wind at 14 km/h and 62% humidity.", "all values verbatim")
g("exact_copy", "Where is my flight AF1145 departing from?",
  ['{"flight": "AF1145", "from": "CDG", "terminal": "2F", "gate": "F32", "departure_local": "2024-09-14T07:35:00+02:00"}'],
  "AF1145 departs from CDG, terminal 2F, gate F32.", "airport, terminal, gate verbatim")
g("exact_copy", "Which error is in the payment service log?",
  ['2024-06-02T11:04:17Z payments-7c9d ERROR charge failed: card_declined (code=insufficient_funds) customer=cus_Q81xZ'],
  "The payment service logged a failed charge for customer cus_Q81xZ: card_declined, code insufficient_funds.", "error text verbatim")
g("exact_copy", "What email is on file for user 5521?",
  ['[{"id": 5521, "name": "Tomás Ferreira", "email": "tomas.ferreira@example.org", "verified": true}]'],
  "User 5521 is Tomás Ferreira, and the email on file is tomas.ferreira@example.org (verified).", "name, email verbatim")
g("exact_copy", "How many units of SKU TBL-OAK-180 are in stock?",
  ['sku,name,warehouse,on_hand\nTBL-OAK-180,Oak dining table 180cm,Rotterdam,37'],
  "There are 37 units of TBL-OAK-180 (Oak dining table 180cm) on hand in the Rotterdam warehouse.", "count from CSV verbatim")
g("exact_copy", "What's the MRN for the appointment tomorrow?",
  ['{"appointment_id": "APT-20931", "patient_mrn": "MRN-0048812", "clinician": "Dr. Helen Okafor", "room": "B-214"}'],
  "The appointment APT-20931 is for patient MRN-0048812, with Dr. Helen Okafor in room B-214.", "ids and names verbatim")
g("exact_copy", "Which feature flag controls the new checkout?",
  ['{"flags": [{"key": "checkout_v2", "enabled": true, "rollout_percent": 25}, {"key": "dark_mode", "enabled": false, "rollout_percent": 0}]}'],
  "The new checkout is behind the checkout_v2 flag, which is enabled at a 25% rollout.", "flag values verbatim")

# paraphrase
g("paraphrase", "Can I still return the headphones I bought?",
  ['{"order_id": "ORD-77120", "item": "WH-1000XM5 headphones", "delivered_at": "2024-05-02", "return_window_days": 30, "return_eligible": true}'],
  "Yes, your WH-1000XM5 headphones are still eligible for return; the return window is 30 days from delivery.", "eligibility and window paraphrased")
g("paraphrase", "Is the database healthy?",
  ['{"cluster": "pg-main", "primary": "healthy", "replicas": [{"name": "pg-r1", "lag_seconds": 0.4, "state": "streaming"}, {"name": "pg-r2", "lag_seconds": 0.6, "state": "streaming"}]}'],
  "pg-main looks healthy: the primary is fine and both replicas are streaming with under a second of lag.", "both replicas streaming, lag 0.4/0.6 s")
g("paraphrase", "Why was my card charged twice?",
  ['{"charges": [{"id": "ch_1", "amount_cents": 2500, "status": "succeeded"}, {"id": "ch_2", "amount_cents": 2500, "status": "refunded", "refund_reason": "duplicate"}]}'],
  "You were charged twice for $25.00, but the second charge was identified as a duplicate and refunded.", "second charge refunded as duplicate")
g("paraphrase", "What does the error in the deploy mean?",
  ['{"deploy": "web@1.42.0", "state": "rolled_back", "reason": "health check /healthz returned 503 for 5 consecutive checks"}'],
  "The deploy of web@1.42.0 was rolled back because its /healthz health check kept returning 503 (five checks in a row).", "reason paraphrased with numbers")
g("paraphrase", "Has the candidate finished all interviews?",
  ['{"candidate": "Marta Kowalska", "stages": [{"name": "phone screen", "done": true}, {"name": "technical", "done": true}, {"name": "onsite", "done": true}], "offer": null}'],
  "Marta Kowalska has completed every interview stage, including the onsite, and no offer has been made yet.", "all stages done, offer null")
g("paraphrase", "Is the coffee machine under warranty?",
  ['{"product": "Barista Pro BES878", "purchased": "2023-11-20", "warranty_months": 24, "warranty_status": "active"}'],
  "Your Barista Pro is still covered: its two-year warranty is active.", "24 months as two-year, status active")
g("paraphrase", "Can you summarise the top search result about rate limits?",
  ['[{"title": "Rate limits - API docs", "snippet": "Requests are limited to 600 per minute per API key. Exceeding the limit returns HTTP 429 with a Retry-After header.", "url": "https://docs.example.com/rate-limits"}]'],
  "According to the API docs, each API key may make up to 600 requests a minute; above that you get a 429 response that tells you when to retry via Retry-After.", "paraphrase of snippet")
g("paraphrase", "Why can't I log in?",
  ['{"user": "j.doe", "locked": true, "locked_reason": "too_many_failed_attempts", "failed_attempts": 5, "unlock_at": "2024-07-01T10:30:00Z"}'],
  "Your account j.doe is locked after five failed sign-in attempts; it unlocks automatically at 10:30 UTC on July 1, 2024.", "lock reason, attempts, unlock time")
g("paraphrase", "Is there any delay on my shipment?",
  ['{"tracking": "JD014600003828", "events": [{"at": "2024-03-11T09:12:00Z", "desc": "Departed facility, Leipzig"}, {"at": "2024-03-12T06:40:00Z", "desc": "Delivery exception: address incomplete"}]}'],
  "Yes, there's a problem: after leaving the Leipzig facility, the carrier reported a delivery exception because the address is incomplete.", "exception paraphrased")
g("paraphrase", "Did the backup run last night?",
  ['Mar 14 02:00:01 db01 backup[2231]: starting full backup of /var/lib/postgresql\nMar 14 02:47:33 db01 backup[2231]: backup completed successfully, 48.2 GiB written'],
  "Yes, the full backup on db01 started at 02:00 and finished successfully at 02:47, writing 48.2 GiB.", "times and size from log")
g("paraphrase", "Is the new hire set up with a laptop?",
  ['{"employee": "Kenji Watanabe", "start_date": "2024-08-05", "equipment": [{"type": "laptop", "model": "MacBook Pro 14", "status": "delivered"}, {"type": "monitor", "status": "backordered"}]}'],
  "Kenji's MacBook Pro 14 has been delivered, though his monitor is still on backorder.", "laptop delivered, monitor backordered")
g("paraphrase", "What's the refund policy for cancelled subscriptions?",
  ['{"policy": "Annual plans cancelled within 14 days receive a full refund. After 14 days, no refund is given but access continues until the end of the term."}'],
  "If you cancel an annual plan within the first 14 days you get all your money back; after that there's no refund, but you keep access until the term ends.", "policy paraphrased")

# reformatted_number
g("reformatted_number", "How many monthly active users do we have?",
  ['{"metric": "mau", "value": 1200000, "as_of": "2024-05-31"}'],
  "We had about 1.2 million monthly active users as of May 31, 2024.", "1200000 -> 1.2 million")
g("reformatted_number", "What's the conversion rate on the pricing page?",
  ['{"page": "/pricing", "visits": 48210, "signups": 1446, "conversion_rate": 0.03}'],
  "The pricing page converts at 3%: 1,446 signups from 48,210 visits.", "0.03 -> 3%, thousands separators")
g("reformatted_number", "How many followers does the account have?",
  ['{"handle": "@orbitlabs", "followers": 58213, "following": 312}'],
  "@orbitlabs has roughly 58.2k followers and follows 312 accounts.", "58213 -> 58.2k")
g("reformatted_number", "What was Q2 revenue?",
  ['| quarter | revenue_usd |\n|---|---|\n| 2024-Q1 | 3870500 |\n| 2024-Q2 | 4215900 |'],
  "Q2 2024 revenue was about $4.2M (4,215,900 USD).", "4215900 -> $4.2M")
g("reformatted_number", "What's the error rate of the search API today?",
  ['{"service": "search-api", "requests": 912004, "errors": 2736, "error_ratio": 0.003}'],
  "The search API's error rate today is 0.3% (2,736 errors out of about 912k requests).", "0.003 -> 0.3%, 912004 -> 912k")
g("reformatted_number", "How big is the dataset?",
  ['{"dataset": "clickstream-2024", "rows": 2450000000, "size_bytes": 812000000000}'],
  "clickstream-2024 has about 2.45 billion rows.", "2450000000 -> 2.45 billion")
g("reformatted_number", "How much did we spend on ads last month?",
  ['{"month": "2024-04", "channel": "search_ads", "spend": 18750.0, "currency": "EUR"}'],
  "Search ad spend in April 2024 was €18,750.", "18750.0 EUR -> €18,750")
g("reformatted_number", "What share of tickets were resolved within SLA?",
  ['{"period": "2024-W22", "tickets": 640, "within_sla": 592, "sla_ratio": 0.925}'],
  "92.5% of tickets in week 22 were resolved within SLA (592 of 640).", "0.925 -> 92.5%")
g("reformatted_number", "How many downloads did the package get last week?",
  ['{"package": "fastjsonx", "downloads_last_week": 3480211}'],
  "fastjsonx was downloaded about 3.48 million times last week.", "3480211 -> 3.48 million")
g("reformatted_number", "What's our cloud bill so far this month?",
  ['{"account": "prod", "month_to_date_usd": 27431.86, "forecast_usd": 41200.00}'],
  "Month-to-date the prod account has spent roughly $27.4k, with a forecast of $41.2k for the month.", "27431.86 -> $27.4k, 41200 -> $41.2k")
g("reformatted_number", "How much headroom does the disk have?",
  ['Filesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p2  1.8T  1.5T  312G  83% /data'],
  "/data is 83% full, with 312 GB still available out of 1.8 TB.", "values from df, G -> GB")
g("reformatted_number", "What's the churn this quarter?",
  ['{"quarter": "2024-Q3", "starting_customers": 2000, "churned": 90, "churn_rate": 0.045}'],
  "Churn this quarter is 4.5%: 90 of the 2,000 customers we started with left.", "0.045 -> 4.5%")
