# Hand-written grounded cases, read by ../make_grounded.py (which defines g).
# date_format
g("date_format", "When was the certificate issued?",
  ['subject=CN=api.example.com\nissuer=CN=R11, O=Let\'s Encrypt\nnotBefore=May 31 08:14:54 2024 GMT\nnotAfter=Aug 29 08:14:53 2024 GMT'],
  "The certificate for api.example.com was issued on May 31, 2024 and expires on August 29, 2024.", "openssl dates reformatted")
g("date_format", "When did the user sign up?",
  ['{"user_id": 90213, "created_at": 1717200000, "plan": "free"}'],
  "User 90213 signed up on June 1, 2024 (UTC) and is on the free plan.", "epoch 1717200000 = 2024-06-01T00:00:00Z")
g("date_format", "When did the incident start?",
  ['{"incident": "INC-552", "started_at": "2024-02-19T14:05:00Z", "resolved_at": "2024-02-19T15:20:00Z", "severity": "SEV2"}'],
  "INC-552, a SEV2, started on 19 February 2024 at 14:05 UTC and was resolved at 15:20 UTC the same day.", "ISO times reformatted")
g("date_format", "When is my next dentist appointment?",
  ['{"appointments": [{"id": "A-771", "when": "2024-10-03T09:30:00-04:00", "provider": "Dr. Lina Park", "type": "cleaning"}]}'],
  "Your next appointment is a cleaning with Dr. Lina Park on Thursday, October 3, 2024 at 9:30 AM (your local time, UTC-4).", "2024-10-03 is a Thursday")
g("date_format", "When was the last login for admin?",
  ['{"user": "admin", "last_login_ms": 1709294400000, "ip": "10.0.4.17"}'],
  "The admin account last logged in on March 1, 2024 at 12:00 UTC, from 10.0.4.17.", "epoch ms 1709294400000 = 2024-03-01T12:00:00Z")
g("date_format", "When does my subscription renew?",
  ['{"subscription": "sub_88KQ", "current_period_end": "2025-01-15", "cancel_at_period_end": false}'],
  "It renews on 15/01/2025, and it is not set to cancel.", "ISO date as dd/mm/yyyy")
g("date_format", "When did the cron job last fail?",
  ['Jul  9 03:15:02 worker-2 CRON[18821]: (etl) CMD (/opt/etl/run.sh) exit status 1\nJul 10 03:15:01 worker-2 CRON[19002]: (etl) CMD (/opt/etl/run.sh) exit status 0'],
  "The ETL cron job last failed on July 9 at 03:15 on worker-2; the July 10 run exited cleanly.", "syslog dates")
g("date_format", "When was the invoice paid?",
  ['{"invoice": "INV-2024-0412", "status": "paid", "paid_at": "2024-04-18T16:42:10+00:00", "amount_due": 0}'],
  "INV-2024-0412 was paid on April 18, 2024, at 4:42 PM UTC.", "ISO with time to 12-hour clock")
g("date_format", "When did the pod restart?",
  ['NAME                       READY   STATUS    RESTARTS        AGE\napi-6f9c8d7b5-x2lkq        1/1     Running   3 (2024-06-11T22:03:44Z ago)   4d'],
  "The api pod has restarted 3 times; the last restart was on 11 June 2024 at 22:03 UTC.", "restart count and time")
g("date_format", "When was the package published?",
  ['{"name": "left-pad-ng", "version": "3.1.0", "time": {"3.1.0": "2023-12-05T18:22:31.004Z"}}'],
  "left-pad-ng 3.1.0 was published on December 5, 2023.", "ISO with millis to date")
g("date_format", "When is the team offsite?",
  ['BEGIN:VEVENT\nSUMMARY:Team offsite\nDTSTART:20240917T090000Z\nDTEND:20240918T170000Z\nLOCATION:Porto\nEND:VEVENT'],
  "The team offsite runs from September 17 (starting 09:00 UTC) to September 18, 2024, in Porto.", "iCal basic format")
g("date_format", "When did the order get delivered?",
  ['{"order": "ORD-10029", "delivered_ts": 1704205800}'],
  "ORD-10029 was delivered on January 2, 2024, at 14:30 UTC.", "epoch 1704205800 = 2024-01-02T14:30:00Z")

# unit_conversion
g("unit_conversion", "How much is the Pro plan?",
  ['{"plan": "pro", "price_cents": 4999, "interval": "month", "currency": "usd"}'],
  "The Pro plan costs $49.99 per month.", "4999 cents -> $49.99")
g("unit_conversion", "How long did the test suite take?",
  ['{"suite": "backend", "duration_seconds": 754, "passed": 1820, "failed": 0}'],
  "The backend suite took about 12.6 minutes (754 s) and all 1,820 tests passed.", "754 s = 12.57 min")
g("unit_conversion", "How big is the release artifact?",
  ['{"artifact": "app-2.8.0.tar.gz", "size_bytes": 52428800, "sha256": "9c1d..."}'],
  "app-2.8.0.tar.gz is 50 MiB.", "52428800 bytes = 50 MiB exactly")
g("unit_conversion", "What's the p95 latency of checkout?",
  ['{"endpoint": "POST /checkout", "p50_ms": 180, "p95_ms": 1450, "p99_ms": 3100}'],
  "Checkout's p95 latency is 1.45 seconds (p50 is 180 ms).", "1450 ms -> 1.45 s")
g("unit_conversion", "What's the refund amount?",
  ['{"refund": "re_3P1", "amount": 1250, "currency": "gbp", "status": "succeeded"}'],
  "A refund of £12.50 went through successfully.", "1250 pence -> £12.50")
g("unit_conversion", "How far is the delivery address from the depot?",
  ['{"route": "depot-7 -> customer", "distance_m": 12400, "eta_minutes": 26}'],
  "The address is 12.4 km from depot 7, about 26 minutes away.", "12400 m -> 12.4 km")
g("unit_conversion", "How long has the server been up?",
  ['{"host": "edge-3", "uptime_seconds": 1209600}'],
  "edge-3 has been up for exactly two weeks.", "1209600 s = 14 days")
g("unit_conversion", "How much memory is the worker using?",
  ['{"process": "worker", "rss_kb": 3145728}'],
  "The worker's resident memory is 3 GiB.", "3145728 KiB = 3 GiB")
g("unit_conversion", "What's the temperature in the server room in Fahrenheit?",
  ['{"sensor": "rack-12-inlet", "temp_c": 25.0}'],
  "The rack 12 inlet sensor reads 77°F (25°C).", "25 C = 77 F")
g("unit_conversion", "What's the outstanding balance?",
  ['{"customer": "cus_771", "balance_minor": -305000, "currency": "JPY"}'],
  "The customer has a credit balance of ¥305,000.", "JPY has no minor unit; negative balance = credit")
g("unit_conversion", "How long was the call?",
  ['{"call_id": "c-90881", "agent": "Sam Reyes", "duration_ms": 372000, "outcome": "resolved"}'],
  "Sam Reyes's call lasted 6 minutes 12 seconds and was resolved.", "372000 ms = 6 min 12 s")
g("unit_conversion", "What is the shipping weight?",
  ['{"parcel": "PCL-4410", "weight_g": 2350, "dimensions_cm": [40, 30, 15]}'],
  "PCL-4410 weighs 2.35 kg and measures 40 × 30 × 15 cm.", "2350 g -> 2.35 kg")

# arithmetic
g("arithmetic", "What's the total across both invoices?",
  ['[{"invoice": "INV-881", "amount_usd": 1240.50}, {"invoice": "INV-882", "amount_usd": 859.50}]'],
  "Together the two invoices come to $2,100.00.", "1240.50 + 859.50 = 2100")
g("arithmetic", "How many orders are still open?",
  ['[{"id": "O-1", "status": "open"}, {"id": "O-2", "status": "closed"}, {"id": "O-3", "status": "open"}, {"id": "O-4", "status": "open"}, {"id": "O-5", "status": "closed"}]'],
  "Three orders are still open: O-1, O-3 and O-4.", "count of open = 3")
g("arithmetic", "How much did signups grow week over week?",
  ['{"week": "2024-W20", "signups": 1820}', '{"week": "2024-W21", "signups": 2275}'],
  "Signups grew by 455 week over week, from 1,820 to 2,275 (a 25% increase).", "2275-1820=455; 455/1820=25%")
g("arithmetic", "What's the average response time across the three regions?",
  ['{"region": "eu", "avg_ms": 120}\n{"region": "us", "avg_ms": 150}\n{"region": "ap", "avg_ms": 210}'],
  "The average across EU, US and AP is 160 ms.", "(120+150+210)/3 = 160")
g("arithmetic", "How many seats are unused?",
  ['{"account": "northwind", "seats_purchased": 50, "seats_assigned": 43}'],
  "Northwind has 7 unused seats (43 of 50 assigned).", "50-43=7")
g("arithmetic", "How much do I still owe on the loan?",
  ['{"loan": "L-2231", "principal": 15000.00, "paid_to_date": 9250.00}'],
  "You still owe $5,750.00 on loan L-2231.", "15000-9250=5750")
g("arithmetic", "How many days until the contract ends?",
  ['{"contract": "MSA-12", "today": "2024-06-10", "end_date": "2024-06-30"}'],
  "MSA-12 ends in 20 days, on June 30, 2024.", "30-10 = 20 days")
g("arithmetic", "What's the total weight of the order?",
  ['{"lines": [{"sku": "A", "qty": 2, "unit_kg": 1.5}, {"sku": "B", "qty": 1, "unit_kg": 4.0}]}'],
  "The order weighs 7 kg in total.", "2*1.5 + 4.0 = 7")
g("arithmetic", "How many failed tests in total across the shards?",
  ['shard 1: 412 passed, 2 failed\nshard 2: 398 passed, 0 failed\nshard 3: 405 passed, 3 failed'],
  "5 tests failed in total (2 in shard 1 and 3 in shard 3); 1,215 passed.", "2+0+3=5; 412+398+405=1215")
g("arithmetic", "What's the gross margin on the product?",
  ['{"sku": "KB-75", "price": 120.00, "unit_cost": 78.00}'],
  "Each KB-75 makes $42.00, a 35% gross margin.", "120-78=42; 42/120=35%")
g("arithmetic", "How many hours did the team log this week?",
  ['[{"person": "Ana", "hours": 38.5}, {"person": "Ben", "hours": 40}, {"person": "Chidi", "hours": 32.5}]'],
  "The team logged 111 hours this week.", "38.5+40+32.5=111")
g("arithmetic", "How long did the migration take?",
  ['2024-05-04T01:00:00Z migration 0042 started\n2024-05-04T01:37:00Z migration 0042 finished'],
  "Migration 0042 took 37 minutes.", "01:37-01:00")
