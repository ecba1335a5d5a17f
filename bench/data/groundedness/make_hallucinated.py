#!/usr/bin/env python3
"""Writes part-hallucinated.jsonl: hallucinated agent answers for the groundedness benchmark.

The first block (C, built with H(...)) is hand-written case by case; the second
block (T, built with add(...)) is templated with a fixed seed for extra variety.
Every line is labelled "hallucinated"; `note` says which claim is unsupported.
"""
import json, os, collections
# ---------------------------------------------------------------- hand-written
C=[]
def H(kind,q,ev,a,note): C.append(dict(kind=kind,question=q,evidence=ev,answer=a,note=note))
# wrong_number
H("wrong_number","What's the total on order 88213?",
 ['{"order_id": 88213, "status": "delivered", "items": 3, "total": 142.37, "currency": "USD", "placed_at": "2024-03-11T09:22:04Z"}'],
 "Order 88213 was delivered and the total came to $147.37 for the 3 items.",
 "total is 142.37 in evidence, answer says 147.37")
H("wrong_number","How many open tickets does the billing queue have right now?",
 ['queue       open  pending  solved_7d\n----------  ----  -------  ---------\nbilling      214       37        902\nonboarding    58       12        311'],
 "The billing queue currently has 241 open tickets, with 37 pending.",
 "billing open is 214, answer says 241 (digits transposed)")
H("wrong_number","What was p95 latency for checkout-api yesterday?",
 ['{"service":"checkout-api","window":"2024-06-03","p50_ms":88,"p95_ms":412,"p99_ms":1170,"requests":5120934}'],
 "Yesterday checkout-api had a p95 latency of 421 ms (p50 was 88 ms).",
 "p95_ms is 412, answer says 421")
H("wrong_number","What's the balance on account ending 4471?",
 ['{"account":"****4471","type":"checking","available_balance":"3,208.55","ledger_balance":"3,412.90","as_of":"2025-01-14T23:59:59-05:00"}'],
 "Your checking account ending 4471 has an available balance of $3,280.55.",
 "available_balance 3,208.55, answer says 3,280.55")
H("wrong_number","How many seats are on the Acme Corp plan?",
 ['{"org":"Acme Corp","plan":"Business","seats_purchased":75,"seats_used":68,"renews_on":"2025-09-01"}'],
 "Acme Corp is on the Business plan with 78 purchased seats, 68 of which are in use.",
 "seats_purchased is 75, answer says 78")
H("wrong_number","What's the patient's latest HbA1c?",
 ['{"patient_id":"P-20931","test":"HbA1c","value":7.4,"unit":"%","collected":"2024-11-02T08:15:00Z","ref_range":"4.0-5.6"}'],
 "The most recent HbA1c result was 7.1%, collected on November 2, 2024, which is above the 4.0-5.6 reference range.",
 "value is 7.4, answer says 7.1")
H("wrong_number","How many downloads did left-pad-lite get last week?",
 ['{"package":"left-pad-lite","downloads":{"last_day":3108,"last_week":20945,"last_month":88412}}'],
 "left-pad-lite was downloaded 29,045 times last week.",
 "last_week is 20945, answer says 29,045")
H("wrong_number","What's the fare for flight LH 431?",
 ['{"flight":"LH 431","from":"FRA","to":"ORD","fare":{"base":612.00,"taxes":188.40,"total":800.40,"currency":"EUR"},"cabin":"economy"}'],
 "The economy fare for LH 431 from Frankfurt to Chicago is EUR 800.40 in total, which includes EUR 118.40 in taxes.",
 "taxes are 188.40, answer says 118.40")
# wrong_date
H("wrong_date","When does my Pro subscription renew?",
 ['{"subscription_id":"sub_1Nf8Qk","plan":"pro_monthly","status":"active","current_period_end":1735689600,"cancel_at_period_end":false}'],
 "Your Pro subscription is active and will renew on January 2, 2025.",
 "current_period_end 1735689600 = 2025-01-01T00:00:00Z, answer says January 2")
H("wrong_date","When does the TLS cert for api.example.org expire?",
 ['subject=CN = api.example.org\nissuer=C = US, O = Let\'s Encrypt, CN = R3\nnotBefore=Mar  2 08:14:54 2024 GMT\nnotAfter=May 31 08:14:54 2024 GMT'],
 "The certificate for api.example.org expires on June 1, 2024.",
 "notAfter is May 31 2024, answer says June 1")
H("wrong_date","When was the last successful backup of db-prod-2?",
 ['2024-08-19T02:00:03Z db-prod-2 backup[2231]: started full backup\n2024-08-19T02:41:57Z db-prod-2 backup[2231]: completed OK size=48.2GiB\n2024-08-20T02:00:02Z db-prod-2 backup[2290]: started full backup\n2024-08-20T02:13:40Z db-prod-2 backup[2290]: FAILED: disk quota exceeded'],
 "The last successful backup of db-prod-2 completed on August 20, 2024 at 02:41 UTC (48.2 GiB).",
 "last success was 2024-08-19 02:41:57; the 08-20 run failed")
H("wrong_date","When is my dentist appointment?",
 ['{"appointment_id":"apt_5521","provider":"Dr. Hana Okafor, DDS","type":"cleaning","start":"2025-02-13T15:30:00-08:00","end":"2025-02-13T16:15:00-08:00","location":"Suite 210"}'],
 "Your cleaning with Dr. Hana Okafor is on Thursday, February 12 at 3:30 PM in Suite 210.",
 "start is 2025-02-13, answer says February 12")
H("wrong_date","When was invoice INV-2291 paid?",
 ['{"invoice":"INV-2291","amount_due":0,"amount_paid":129900,"status":"paid","status_transitions":{"finalized_at":1709251200,"paid_at":1710374400}}'],
 "Invoice INV-2291 was paid in full on March 13, 2024.",
 "paid_at 1710374400 = 2024-03-14T00:00:00Z, answer says March 13")
H("wrong_date","When did the outage start?",
 ['{"incident":"INC-0412","title":"Elevated 5xx on edge","started_at":"2024-10-07T22:48:00Z","resolved_at":"2024-10-08T01:05:00Z","severity":"SEV2"}'],
 "INC-0412 started at 22:48 UTC on October 6 and was resolved a little after 1 AM the next day.",
 "started_at is 2024-10-07, answer says October 6")
H("wrong_date","When does the lease at 14 Birch Lane end?",
 ['[{"unit":"14 Birch Lane","tenant":"M. Duarte","lease_start":"2023-07-01","lease_end":"2024-06-30","rent":1850}]'],
 "The lease at 14 Birch Lane runs until July 30, 2024.",
 "lease_end is 2024-06-30, answer says July 30")
H("wrong_date","What time does the Berlin standup happen?",
 ['BEGIN:VEVENT\nSUMMARY:Berlin team standup\nDTSTART;TZID=Europe/Berlin:20250310T093000\nDTEND;TZID=Europe/Berlin:20250310T094500\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\nEND:VEVENT'],
 "The Berlin standup is at 10:30 Berlin time on Mondays, Wednesdays and Fridays, starting March 10, 2025.",
 "DTSTART is 09:30, answer says 10:30")
# inverted_status
H("inverted_status","Has invoice 10044 been paid?",
 ['{"invoice_number":"10044","customer":"Brightline LLC","amount_cents":452000,"status":"open","due_date":"2024-05-15","paid":false}'],
 "Yes, invoice 10044 for Brightline LLC has been paid ($4,520.00).",
 "status open, paid false; answer says paid")
H("inverted_status","Did the nightly build pass?",
 ['{"workflow":"nightly","run_id":8812003341,"conclusion":"failure","jobs":[{"name":"build","conclusion":"success"},{"name":"integration-tests","conclusion":"failure"}],"created_at":"2024-09-02T03:00:12Z"}'],
 "The nightly run passed, including the build and integration-tests jobs.",
 "run conclusion failure, integration-tests failed")
H("inverted_status","Is the blue hoodie in size M in stock?",
 ['{"sku":"HD-BLU-M","name":"Classic Hoodie - Blue / M","inventory":{"available":0,"reserved":3,"incoming":40,"next_restock":"2024-12-18"}}'],
 "Good news - the blue hoodie in M is in stock and ready to ship.",
 "available 0 (restock 2024-12-18); answer says in stock")
H("inverted_status","Has my package shipped yet?",
 ['{"order":"W-77120","fulfillment_status":"unfulfilled","shipments":[],"estimated_ship_date":"2025-04-22"}'],
 "Your order W-77120 has shipped and is on its way.",
 "fulfillment_status unfulfilled, no shipments")
H("inverted_status","Is the new-checkout flag on in production?",
 ['{"key":"new-checkout","environments":{"staging":{"on":true,"rollout":100},"production":{"on":false,"rollout":0}},"updated_by":"k.ito"}'],
 "Yes, new-checkout is enabled in production (and staging).",
 "production on false")
H("inverted_status","Is Jordan Lee's account still active?",
 ['{"user_id":"u_30981","name":"Jordan Lee","email":"jlee@fabrikam.io","status":"suspended","suspended_reason":"payment_failed","last_login":"2024-07-29T18:02:11Z"}'],
 "Jordan Lee's account (jlee@fabrikam.io) is active; the last login was July 29, 2024.",
 "status suspended, answer says active")
H("inverted_status","Did the refund for order 5512 go through?",
 ['{"refund_id":"re_3PqL","charge":"ch_5512","amount":2599,"currency":"usd","status":"failed","failure_reason":"expired_or_canceled_card"}'],
 "The refund of $25.99 for order 5512 went through successfully.",
 "refund status failed")
H("inverted_status","Is the pg-replica healthy?",
 ['NAME                     READY   STATUS             RESTARTS   AGE\npg-primary-0             1/1     Running            0          12d\npg-replica-0             0/1     CrashLoopBackOff   7          12d'],
 "Yes, pg-replica-0 is Running and ready (1/1), same as pg-primary-0.",
 "pg-replica-0 is CrashLoopBackOff 0/1")
# swapped_values
H("swapped_values","What did Alice and Bob each spend last month?",
 ['[{"customer":"Alice Nguyen","month":"2024-10","spend":318.20},{"customer":"Bob Harris","month":"2024-10","spend":1204.75}]'],
 "Last month Alice Nguyen spent $1,204.75 and Bob Harris spent $318.20.",
 "values swapped between Alice (318.20) and Bob (1204.75)")
H("swapped_values","Which region has the higher error rate?",
 ['{"us-east-1":{"requests":2210934,"errors":1482,"error_rate":0.00067},"eu-west-1":{"requests":903221,"errors":3011,"error_rate":0.00333}}'],
 "us-east-1 has the higher error rate at about 0.33%, versus roughly 0.07% in eu-west-1.",
 "rates swapped: us-east-1 is 0.067%, eu-west-1 0.333%")
H("swapped_values","What are the due dates for the two invoices?",
 ['{"id":"INV-7001","due":"2025-03-01","amount":980.00}', '{"id":"INV-7002","due":"2025-03-15","amount":1450.00}'],
 "INV-7001 ($980.00) is due March 15, 2025, and INV-7002 ($1,450.00) is due March 1, 2025.",
 "due dates swapped between INV-7001 (03-01) and INV-7002 (03-15)")
H("swapped_values","How much RAM do web-1 and web-2 have?",
 ['host    cpu  mem_gb  disk_gb\nweb-1     4      16      200\nweb-2     8      32      400'],
 "web-1 has 32 GB of RAM and web-2 has 16 GB.",
 "mem swapped: web-1 16, web-2 32")
H("swapped_values","Who is the assignee on SUP-881?",
 ['[{"key":"SUP-880","summary":"Login loop on SSO","assignee":"Priya Raman","priority":"High"},{"key":"SUP-881","summary":"CSV export missing columns","assignee":"Tomás Ortega","priority":"Low"}]'],
 "SUP-881 (CSV export missing columns) is assigned to Priya Raman.",
 "SUP-881 assignee is Tomás Ortega; Priya Raman is on SUP-880")
H("swapped_values","What's the weather in Oslo tomorrow?",
 ['{"location":"Oslo","daily":[{"date":"2024-12-09","tmin":-4,"tmax":1,"precip_mm":0.0,"summary":"clear"},{"date":"2024-12-10","tmin":-2,"tmax":3,"precip_mm":6.4,"summary":"snow"}]}'],
 "Tomorrow (December 9) in Oslo: snow, with a low of -2 and a high of 3 degrees and about 6.4 mm of precipitation.",
 "Dec 9 is clear, -4/1, 0 mm; answer gives Dec 10's values")
H("swapped_values","Which of our two plans is cheaper per seat?",
 ['{"plans":[{"name":"Team","price_per_seat_usd":12,"min_seats":3},{"name":"Business","price_per_seat_usd":22,"min_seats":10}]}'],
 "The Business plan is cheaper at $12 per seat (minimum 10 seats); Team is $22 per seat.",
 "prices swapped: Team 12, Business 22")
H("swapped_values","What version is running in staging vs prod?",
 ['{"deployments":[{"env":"staging","image":"api:2.14.0","deployed_at":"2024-11-20T10:01:00Z"},{"env":"prod","image":"api:2.13.3","deployed_at":"2024-11-18T16:44:00Z"}]}'],
 "Prod is running api:2.14.0 and staging is on api:2.13.3.",
 "versions swapped: staging 2.14.0, prod 2.13.3")
# wrong_name
H("wrong_name","Who approved the PTO request?",
 ['{"request_id":"PTO-3310","employee":"Sara Lindqvist","dates":["2025-07-14","2025-07-18"],"status":"approved","approver":"Marcus Bell"}'],
 "Sara Lindqvist's PTO for July 14-18 was approved by Marcus Hill.",
 "approver is Marcus Bell")
H("wrong_name","Which carrier is handling my shipment?",
 ['{"tracking_number":"1Z999AA10123456784","carrier":"UPS","service":"Ground","status":"in_transit","last_scan":"Louisville, KY"}'],
 "Your package is with FedEx Ground and was last scanned in Louisville, KY.",
 "carrier is UPS")
H("wrong_name","What's the name of the top search result?",
 ['[{"title":"Understanding PostgreSQL VACUUM and autovacuum","url":"https://www.cybertec-postgresql.com/en/understanding-vacuum/","snippet":"VACUUM reclaims storage occupied by dead tuples..."}]'],
 "The top result is \"Understanding PostgreSQL VACUUM and Analyze\" from cybertec-postgresql.com.",
 "title says 'VACUUM and autovacuum'")
H("wrong_name","Which hotel am I booked at in Lisbon?",
 ['{"confirmation":"HX-88120","hotel":"Memmo Príncipe Real","city":"Lisbon","check_in":"2025-05-02","check_out":"2025-05-05","room":"Deluxe King"}'],
 "You're booked at Memmo Alfama in Lisbon from May 2 to May 5, Deluxe King room.",
 "hotel is Memmo Príncipe Real")
H("wrong_name","Who is the primary on-call this week?",
 ['{"schedule":"platform-primary","oncall":[{"user":"dmitri.volkov","start":"2024-12-02T09:00:00Z","end":"2024-12-09T09:00:00Z"}]}'],
 "Dmitri Volkova is the primary on-call for platform until December 9 at 09:00 UTC.",
 "user is dmitri.volkov (Volkov)")
H("wrong_name","Which doctor is the referral to?",
 ['{"referral_id":"R-4410","patient":"K. Abara","specialty":"Cardiology","to_provider":"Dr. Eleanor Whitfield","status":"sent"}'],
 "The cardiology referral was sent to Dr. Eleanor Whitman.",
 "provider is Dr. Eleanor Whitfield")
H("wrong_name","Which repo did the failing commit come from?",
 ['{"check_suite":{"repository":"acme/payments-gateway","head_sha":"9f3c2e1","conclusion":"failure","app":"github-actions"}}'],
 "The failing commit 9f3c2e1 is in acme/payment-gateway.",
 "repository is acme/payments-gateway")
H("wrong_name","What's the company name on this VAT number?",
 ['{"valid":true,"countryCode":"NL","vatNumber":"859048401B01","name":"KONINKLIJKE VAN DER LAAN B.V.","address":"HOOFDWEG 12, 1234AB AMSTERDAM"}'],
 "VAT number NL859048401B01 is valid and belongs to Koninklijke Van der Linden B.V. in Amsterdam.",
 "name is KONINKLIJKE VAN DER LAAN B.V.")
# invented_entity
H("invented_entity","Who should I contact about the billing error?",
 ['{"ticket":"SUP-2204","status":"open","assignee":"billing-team","contact":"billing@northwind.example","sla_hours":24}'],
 "Email billing@northwind.example or reach out to Dana Reyes on the billing team directly; they respond within 24 hours.",
 "Dana Reyes does not appear in evidence")
H("invented_entity","What docs page explains rate limits?",
 ['[{"title":"Rate limits","url":"https://docs.stripe.com/rate-limits","snippet":"The Stripe API uses a number of safeguards against bursts of incoming traffic..."}]'],
 "See https://docs.stripe.com/rate-limits, and for retry advice https://docs.stripe.com/rate-limits/backoff.",
 "second URL is not in the search results")
H("invented_entity","Which products are in the order?",
 ['{"order_id":"SO-4431","lines":[{"sku":"MUG-11","name":"Ceramic Mug 11oz","qty":2},{"sku":"CST-04","name":"Cork Coaster Set","qty":1}]}'],
 "Order SO-4431 contains 2 Ceramic Mug 11oz, 1 Cork Coaster Set and a Bamboo Tea Tray.",
 "Bamboo Tea Tray is not in the order")
H("invented_entity","Are there related tickets for the SSO outage?",
 ['[{"key":"OPS-1201","summary":"Okta SSO returns 502","status":"In Progress"},{"key":"OPS-1203","summary":"SAML assertion clock skew","status":"Open"}]'],
 "Yes - OPS-1201, OPS-1203 and OPS-1207 are all linked to the SSO outage.",
 "OPS-1207 not in evidence")
H("invented_entity","Who attended the design review?",
 ['{"event":"Design review: search v2","start":"2024-09-12T14:00:00Z","attendees":[{"email":"lea.m@corp.example","response":"accepted"},{"email":"raj.p@corp.example","response":"accepted"},{"email":"ofelia.g@corp.example","response":"declined"}]}'],
 "Lea, Raj and Chris Baptiste accepted the design review invite; Ofelia declined.",
 "Chris Baptiste not among attendees")
H("invented_entity","Which dependency has the vulnerability?",
 ['{"advisories":[{"id":"GHSA-9wx4-h78v-vm56","package":"requests","vulnerable":"<2.32.0","patched":"2.32.0","severity":"moderate"}]}'],
 "GHSA-9wx4-h78v-vm56 affects requests below 2.32.0 (patched in 2.32.0); urllib3 is affected as well and should be bumped to 2.2.2.",
 "urllib3 is not in the advisory data; only requests is listed")
H("invented_entity","Which warehouse will ship my order?",
 ['{"order":"A-99120","allocations":[{"warehouse":"RNO-1","items":3}],"promised_ship":"2025-01-08"}'],
 "Your order will ship from RNO-1 and the back-ordered item from our Memphis warehouse MEM-2.",
 "MEM-2 and back-ordered item not in evidence")
# small_number
H("small_number","How many replicas does the search deployment have?",
 ['{"kind":"Deployment","metadata":{"name":"search"},"spec":{"replicas":3},"status":{"readyReplicas":3,"availableReplicas":3}}'],
 "The search deployment runs 4 replicas, all of them ready.",
 "replicas 3, answer says 4")
H("small_number","How many retries did the webhook delivery take?",
 ['{"webhook_id":"wh_882","event":"invoice.paid","attempts":[{"n":1,"status":500},{"n":2,"status":502},{"n":3,"status":200}]}'],
 "The invoice.paid webhook succeeded on the 4th attempt after several 5xx errors.",
 "succeeded on attempt 3")
H("small_number","How many items are in my cart?",
 ['{"cart_id":"c_7781","items":[{"sku":"TS-RED-L","qty":2},{"sku":"CAP-BLK","qty":1},{"sku":"SOCK-3PK","qty":2}],"subtotal":"64.50"}'],
 "You have 6 items in your cart with a subtotal of $64.50.",
 "qty sum is 5 (2+1+2)")
H("small_number","How many stops on my flight to Tokyo?",
 ['{"itinerary":"Q7XK2P","segments":[{"from":"BOS","to":"SFO","flight":"UA 1123"},{"from":"SFO","to":"HND","flight":"UA 837"}]}'],
 "Your itinerary to Tokyo Haneda has 2 stops, connecting via San Francisco.",
 "two segments = 1 stop")
H("small_number","How many failed login attempts before the lockout?",
 ['Jul 14 03:12:01 auth01 sshd[9921]: Failed password for admin from 203.0.113.7 port 51122 ssh2\nJul 14 03:12:04 auth01 sshd[9921]: Failed password for admin from 203.0.113.7 port 51122 ssh2\nJul 14 03:12:08 auth01 sshd[9921]: Failed password for admin from 203.0.113.7 port 51122 ssh2\nJul 14 03:12:08 auth01 sshd[9921]: error: maximum authentication attempts exceeded for admin from 203.0.113.7'],
 "There were 5 failed password attempts for admin from 203.0.113.7 before the maximum was exceeded.",
 "3 failed attempts in log")
H("small_number","How many direct reports does Wen have?",
 ['{"employee":"Wen Zhao","title":"Engineering Manager","reports":["a.kim","b.osei","c.hart","d.mehta","e.silva","f.nowak","g.ruiz"]}'],
 "Wen Zhao has 8 direct reports.",
 "reports list has 7 entries")
H("small_number","How many nights is my stay?",
 ['{"booking":"BK-55102","property":"Harbor View Inn","check_in":"2025-08-10","check_out":"2025-08-14","guests":2}'],
 "Your stay at Harbor View Inn is 5 nights for 2 guests, checking in August 10.",
 "Aug 10 to Aug 14 is 4 nights")
# question_echo
H("question_echo","Can you confirm the refund of $45 on order 3301 was issued?",
 ['{"order":"3301","refunds":[{"id":"rf_19","amount":"35.00","currency":"USD","status":"succeeded","created":"2024-04-02T11:20:00Z"}]}'],
 "Yes, the $45 refund on order 3301 was issued successfully on April 2, 2024.",
 "refund amount is 35.00; 45 only appears in the question")
H("question_echo","Why did the deploy of v3.2 fail on Tuesday?",
 ['{"deploy_id":"dpl_881","version":"v3.1.4","status":"failed","started":"2024-05-14T09:02:00Z","error":"readiness probe failed: HTTP 503"}'],
 "The v3.2 deploy failed because the readiness probe returned HTTP 503.",
 "deployed version is v3.1.4; v3.2 comes from the question")
H("question_echo","What did Mark Jensen order last week?",
 ['{"customer":"Mark Jansen","orders":[{"id":"O-1882","date":"2024-02-06","items":["USB-C hub","HDMI cable"]}]}'],
 "Mark Jensen ordered a USB-C hub and an HDMI cable on February 6, 2024 (order O-1882).",
 "customer name is Mark Jansen; 'Jensen' only in question")
H("question_echo","Is the 2 pm meeting with Legal still on for Friday?",
 ['{"summary":"Contract review w/ Legal","start":"2025-03-21T15:00:00-04:00","end":"2025-03-21T15:30:00-04:00","status":"confirmed"}'],
 "Yes, your 2 pm meeting with Legal on Friday is confirmed.",
 "meeting starts 15:00 (3 pm), 2 pm only from question")
H("question_echo","My invoice says 12 licenses, right?",
 ['{"invoice":"INV-40211","line_items":[{"description":"Pro license","quantity":10,"unit_amount":4900}],"total":49000}'],
 "That's right, invoice INV-40211 covers 12 Pro licenses.",
 "quantity is 10")
H("question_echo","Why is disk usage at 95% on node-7?",
 ['Filesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p1  492G  431G   61G  88% /'],
 "node-7's root disk is at 95% because 431G of the 492G volume is used.",
 "Use% is 88%; 95% comes from question")
H("question_echo","How long has the Sunrise Café listing been closed?",
 ['{"place":"Sunrise Cafe","status":"OPERATIONAL","rating":4.4,"user_ratings_total":312}'],
 "Sunrise Café has been closed for a while; it had a 4.4 rating from 312 reviews.",
 "business_status OPERATIONAL; closure only in question")
# version
H("version","What's the latest version of fastapi?",
 ['{"info":{"name":"fastapi","version":"0.115.6","requires_python":">=3.8"},"releases":{"0.115.5":[],"0.115.6":[]}}'],
 "The latest fastapi release is 0.115.5, which requires Python 3.8 or newer.",
 "latest is 0.115.6")
H("version","Which kernel is db-3 running?",
 ['$ uname -r\n5.15.0-105-generic'],
 "db-3 is running kernel 5.15.0-107-generic.",
 "uname says 5.15.0-105-generic")
H("version","What version of the agent is installed on the hosts?",
 ['host=app-01 agent_version=7.52.1 status=ok\nhost=app-02 agent_version=7.52.1 status=ok'],
 "Both app-01 and app-02 are on agent version 7.52.0.",
 "agent_version 7.52.1")
H("version","Which nginx version is serving the site?",
 ['HTTP/1.1 200 OK\nServer: nginx/1.24.0\nDate: Tue, 05 Nov 2024 10:12:33 GMT\nContent-Type: text/html'],
 "The site is served by nginx 1.25.0.",
 "Server header nginx/1.24.0")
H("version","What's the fixed version for CVE-2023-44487 in our Go toolchain?",
 ['{"id":"GO-2023-2102","aliases":["CVE-2023-44487"],"affected":[{"package":"stdlib","ranges":[{"fixed":"1.20.10"},{"introduced":"1.21.0","fixed":"1.21.3"}]}]}'],
 "It's fixed in Go 1.20.10 and, for the 1.21 line, in Go 1.21.2.",
 "1.21 fix is 1.21.3")
H("version","What Postgres version is the prod cluster on?",
 ['                                                   version\n------------------------------------------------------------------------------------------------------------\n PostgreSQL 16.4 (Debian 16.4-1.pgdg120+2) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit\n(1 row)'],
 "The prod cluster runs PostgreSQL 16.2 on Debian.",
 "version is 16.4")
H("version","Which release added the --dry-run flag?",
 ['## [2.8.0] - 2024-06-02\n### Added\n- `--dry-run` flag for `sync`\n## [2.7.3] - 2024-05-11\n### Fixed\n- crash on empty config'],
 "The --dry-run flag for sync was added in 2.7.3.",
 "added in 2.8.0; 2.7.3 was a fix release")
# wrong_arithmetic
H("wrong_arithmetic","What's the total of my three open invoices?",
 ['[{"id":"INV-301","amount_due":1250.00},{"id":"INV-305","amount_due":480.50},{"id":"INV-309","amount_due":2315.25}]'],
 "Your three open invoices add up to $4,145.75.",
 "sum is 4045.75")
H("wrong_arithmetic","How much did revenue grow from Q1 to Q2?",
 ['quarter | revenue_usd\n--------+------------\n2024Q1  |   1842300\n2024Q2  |   2107900'],
 "Revenue grew by $275,600 from Q1 to Q2 2024, from $1,842,300 to $2,107,900.",
 "difference is 265,600")
H("wrong_arithmetic","What's the average response time across the three probes?",
 ['{"probes":[{"region":"fra","ms":142},{"region":"iad","ms":98},{"region":"sin","ms":231}]}'],
 "The average response time across fra, iad and sin is 167 ms.",
 "average is 157 ms (471/3)")
H("wrong_arithmetic","How long was the job running?",
 ['{"job":"etl-daily","started_at":"2024-10-02T01:15:00Z","finished_at":"2024-10-02T03:52:00Z","state":"succeeded"}'],
 "etl-daily succeeded after running for 2 hours and 47 minutes.",
 "01:15 to 03:52 is 2h37m")
H("wrong_arithmetic","How many vacation days do I have left?",
 ['{"employee":"R. Castillo","policy":"PTO-standard","accrued_days":18.0,"used_days":11.5,"pending_days":2.0}'],
 "You have 7.5 vacation days left after the 11.5 you've used, not counting 2 days pending.",
 "18.0 - 11.5 = 6.5")
H("wrong_arithmetic","What's the gross margin on the SKU?",
 ['{"sku":"LMP-220","price":80.00,"unit_cost":52.00}'],
 "LMP-220 sells for $80.00 and costs $52.00, a gross margin of 38%.",
 "margin is 28/80 = 35%")
H("wrong_arithmetic","How much is left on the project budget?",
 ['{"project":"Website redesign","budget":60000,"spent":[{"vendor":"Studio K","amount":22400},{"vendor":"Hosting","amount":1800},{"vendor":"Copywriting","amount":6350}]}'],
 "You've spent $31,550 so far on the website redesign, leaving $28,450 of the $60,000 budget.",
 "spend sums to 30,550 (22400+1800+6350), so 29,450 remains")
H("wrong_arithmetic","How many users signed up this week in total?",
 ['date,signups\n2024-11-25,142\n2024-11-26,156\n2024-11-27,131\n2024-11-28,97\n2024-11-29,88\n2024-11-30,64\n2024-12-01,71'],
 "You had 759 signups this week, peaking at 156 on Tuesday November 26.",
 "sum is 749")
# invented_detail
H("invented_detail","What's the status of order 60017?",
 ['{"order_id":60017,"status":"shipped","carrier":"USPS","tracking":"9400111899223344556677","shipped_at":"2024-12-02T16:40:00Z"}'],
 "Order 60017 shipped via USPS on December 2 (tracking 9400111899223344556677) and is expected to arrive by December 5.",
 "no delivery estimate in evidence")
H("invented_detail","Is the API down?",
 ['{"page":{"name":"Acme API"},"status":{"indicator":"minor","description":"Partially Degraded Service"},"components":[{"name":"REST API","status":"degraded_performance"},{"name":"Dashboard","status":"operational"}]}'],
 "The API isn't down, but the REST API is showing degraded performance; the dashboard is operational. The issue was caused by a database failover.",
 "cause (database failover) not in evidence")
H("invented_detail","When is my next appointment?",
 ['{"appointments":[{"id":"A-221","provider":"Dr. Patel","dept":"Dermatology","start":"2025-01-21T10:00:00-06:00","status":"booked"}]}'],
 "Your next appointment is with Dr. Patel in Dermatology on January 21, 2025 at 10:00 AM. Please arrive 15 minutes early to complete paperwork.",
 "arrival instruction not in evidence")
H("invented_detail","Why did the pipeline fail?",
 ['{"pipeline":4412,"status":"failed","failed_job":{"name":"lint","stage":"test","log_tail":"src/app.ts:42:7  error  \'user\' is assigned a value but never used  @typescript-eslint/no-unused-vars\\n✖ 1 problem (1 error, 0 warnings)"}}'],
 "Pipeline 4412 failed in the lint job: src/app.ts line 42 has an unused variable 'user'. This rule was enabled in last week's config change.",
 "claim about last week's config change is unsupported")
H("invented_detail","What's the return policy for this item?",
 ['{"sku":"BLND-900","name":"ProBlend 900","returnable":true,"return_window_days":30,"restocking_fee_pct":0}'],
 "The ProBlend 900 can be returned within 30 days with no restocking fee, and return shipping is free.",
 "free return shipping not in evidence")
H("invented_detail","Who owns the payments-svc repo?",
 ['{"repo":"payments-svc","codeowners":["@acme/payments-core"],"default_branch":"main","archived":false}'],
 "payments-svc is owned by the @acme/payments-core team, led by Ines Carvalho, and its default branch is main.",
 "team lead not in evidence")
H("invented_detail","How much does the Growth plan cost?",
 ['{"plan":"growth","price":{"monthly_usd":99,"annual_usd":990},"limits":{"seats":10,"projects":25}}'],
 "Growth is $99 a month or $990 a year, includes 10 seats and 25 projects, and comes with a 14-day free trial.",
 "free trial not in evidence")
H("invented_detail","Is my flight on time?",
 ['{"flight":"BA 117","date":"2025-02-03","dep":{"airport":"LHR","scheduled":"2025-02-03T11:25:00Z","estimated":"2025-02-03T11:25:00Z","gate":"B42"},"status":"scheduled"}'],
 "BA 117 is on time, departing Heathrow at 11:25 from gate B42; boarding starts at 10:45.",
 "boarding time not in evidence")
# wrong_unit
H("wrong_unit","How much was the last charge on my card?",
 ['{"id":"ch_3OxT","amount":4999,"currency":"usd","status":"succeeded","created":1717171200,"description":"Annual plan"}'],
 "Your last charge was $4,999.00 for the Annual plan, and it succeeded.",
 "amount is 4999 cents = $49.99")
H("wrong_unit","How big is the uploaded file?",
 ['{"key":"exports/2024-11.csv","size":52428800,"content_type":"text/csv","last_modified":"2024-12-01T00:05:11Z"}'],
 "exports/2024-11.csv is 50 GB.",
 "52428800 bytes = 50 MiB, not GB")
H("wrong_unit","How long did the request take?",
 ['{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span":"GET /v1/users","duration_us":1840}'],
 "GET /v1/users took 1.84 seconds.",
 "1840 microseconds = 1.84 ms")
H("wrong_unit","What's the balance of the wallet?",
 ['{"address":"0x9a2c...e41f","balance_wei":"250000000000000000","chain":"ethereum"}'],
 "The wallet holds 2.5 ETH.",
 "250000000000000000 wei = 0.25 ETH")
H("wrong_unit","What's the current temperature in the server room?",
 ['sensor=rack-a temp_c=27.5 humidity=41 ts=1733563200'],
 "The server room is at 27.5°F right now, with 41% humidity.",
 "temp_c is Celsius; 27.5°C is 81.5°F")
H("wrong_unit","What's the monthly fee for the add-on?",
 ['{"addon":"priority_support","unit_amount":1500,"currency":"eur","interval":"month"}'],
 "Priority support costs EUR 1,500 per month.",
 "unit_amount 1500 cents = EUR 15.00")
H("wrong_unit","How much memory is the container using?",
 ['CONTAINER ID   NAME        CPU %     MEM USAGE / LIMIT     MEM %\n3f1c2b9a7d10   worker-1    12.40%    512MiB / 2GiB         25.00%'],
 "worker-1 is using 512 GiB of its 2 GiB limit, about 25%.",
 "usage is 512 MiB, not GiB")
H("wrong_unit","What's the session timeout set to?",
 ['SESSION_TIMEOUT_MS=1800000\nSESSION_COOKIE_SECURE=true'],
 "Sessions time out after 30 hours.",
 "1800000 ms = 30 minutes")
# wrong_scale
H("wrong_scale","How many monthly active users do we have?",
 ['{"metric":"mau","period":"2024-11","value":1200000}'],
 "We had about 12 million monthly active users in November 2024.",
 "1200000 = 1.2 million")
H("wrong_scale","What's the ARR for the enterprise segment?",
 ['segment     arr_usd\nenterprise  48250000\nmid-market  13900000'],
 "Enterprise ARR is $482.5 million.",
 "48250000 = $48.25M")
H("wrong_scale","How many rows are in the events table?",
 ['  count   \n----------\n 83104221\n(1 row)'],
 "The events table has roughly 8.3 million rows.",
 "83104221 ≈ 83.1 million")
H("wrong_scale","How many followers does the account have?",
 ['{"username":"kestrel_dev","followers_count":58213,"following_count":412}'],
 "kestrel_dev has about 582k followers.",
 "58213 ≈ 58.2k")
H("wrong_scale","What's the conversion rate on the landing page?",
 ['{"page":"/pricing","visits":41200,"signups":1236,"conversion_rate":0.03}'],
 "The /pricing page converts at 0.03%, 1,236 signups from 41,200 visits.",
 "0.03 = 3%")
H("wrong_scale","How much did the company raise?",
 ['[{"title":"Lumen Robotics raises $2.4M seed","url":"https://techwire.example/lumen-seed","snippet":"Lumen Robotics announced a $2.4 million seed round led by..."}]'],
 "Lumen Robotics raised a $24 million seed round.",
 "$2.4 million")
H("wrong_scale","How many tokens did we use yesterday?",
 ['{"date":"2024-12-06","input_tokens":18420000,"output_tokens":2310000}'],
 "Yesterday you used about 18.4 billion input tokens and 2.3 billion output tokens.",
 "18420000 = 18.4 million")
# ---- more hand-written
H("wrong_number","How many 5xx responses were there in the last hour?",
 ['203.0.113.9 - - [12/Mar/2024:14:02:11 +0000] "GET /api/orders HTTP/1.1" 502 166 "-" "okhttp/4.12.0"\n198.51.100.4 - - [12/Mar/2024:14:05:40 +0000] "POST /api/cart HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n203.0.113.9 - - [12/Mar/2024:14:31:02 +0000] "GET /api/orders HTTP/1.1" 504 166 "-" "okhttp/4.12.0"',
  '{"query":"status>=500 last 1h","count":1873,"top_path":"/api/orders"}'],
 "There were 1,837 5xx responses in the last hour, mostly on /api/orders (502s and 504s).",
 "count is 1873, answer says 1837")
H("wrong_number","What's my current credit score on file?",
 ['{"bureau":"Experian","score":712,"model":"FICO 8","pulled_at":"2024-09-30T12:00:00Z","factors":["high utilization","short history"]}'],
 "Your FICO 8 score from Experian is 721, pulled September 30, 2024. The main factors are high utilization and a short credit history.",
 "score 712, answer says 721")
H("wrong_date","When is the next payroll run?",
 ['payroll_calendar\n  run_id   | pay_date   | cutoff\n ----------+------------+-----------\n PR-2025-01 | 2025-01-15 | 2025-01-10\n PR-2025-02 | 2025-01-31 | 2025-01-27'],
 "The next payroll run, PR-2025-01, pays out on January 15, 2025, and the cutoff for changes is January 12.",
 "cutoff is 2025-01-10, answer says January 12")
H("wrong_date","When was the user's password last changed?",
 ['{"user":"svc-reporting","pwdLastSet":"133517376000000000","accountExpires":"0","enabled":true}'],
 "svc-reporting's password was last changed on February 2, 2024.",
 "pwdLastSet 133517376000000000 (Windows FILETIME) = 2024-02-07T00:00:00Z, answer says February 2")
H("inverted_status","Was the wire transfer to Kestrel GmbH approved?",
 ['{"transfer_id":"WT-00921","beneficiary":"Kestrel GmbH","amount":"18,400.00","currency":"EUR","approval":{"required":2,"received":1,"state":"pending"}}'],
 "Yes, the EUR 18,400.00 wire to Kestrel GmbH has been approved by both required approvers.",
 "approval state pending, 1 of 2 received")
H("inverted_status","Is the patient cleared for surgery?",
 ['{"patient_id":"P-77310","preop_checklist":{"labs":"complete","ecg":"complete","anesthesia_consult":"incomplete"},"cleared":false}'],
 "The patient is cleared for surgery; labs, ECG and the anesthesia consult are all complete.",
 "cleared false, anesthesia_consult incomplete")
H("swapped_values","Which of the two laptops has more battery life?",
 ['[{"model":"Aero 14","battery_hours":11.5,"weight_kg":1.39},{"model":"Vertex 15","battery_hours":8.0,"weight_kg":1.82}]'],
 "The Vertex 15 lasts longer at 11.5 hours versus 8 hours for the Aero 14, though it's heavier at 1.82 kg.",
 "battery hours swapped: Aero 14 11.5, Vertex 15 8.0")
H("swapped_values","When do the two certificates expire?",
 ['notAfter=Jan 14 23:59:59 2025 GMT  subject=CN=shop.example.com', 'notAfter=Apr  2 12:00:00 2025 GMT  subject=CN=admin.example.com'],
 "shop.example.com expires April 2, 2025 and admin.example.com expires January 14, 2025.",
 "expiry dates swapped between the two certificates")
H("wrong_name","Which airline operates the flight?",
 ['{"flight_number":"KL 1002","operating_carrier":"KLM Cityhopper","marketing_carrier":"KLM","aircraft":"Embraer 175","dep":"AMS","arr":"LHR"}'],
 "KL 1002 from Amsterdam to London Heathrow is operated by KLM Citylink on an Embraer 175.",
 "operating_carrier is KLM Cityhopper")
H("invented_entity","Which customers were affected by the incident?",
 ['{"incident":"INC-0977","affected_tenants":["t_acme","t_globex"],"duration_min":42}'],
 "INC-0977 affected three tenants - t_acme, t_globex and t_initech - for 42 minutes.",
 "t_initech not in affected_tenants (and it was two tenants)")
H("invented_entity","Who's the author of the failing commit?",
 ['commit 4e1d9a0c2b7f\nAuthor: Noor Haddad <noor@example.dev>\nDate:   Thu Oct 3 17:22:05 2024 +0200\n\n    Bump grpc to 1.66'],
 "The failing commit 4e1d9a0 (\"Bump grpc to 1.66\") was authored by Noor Haddad and reviewed by Sven Aalto.",
 "reviewer Sven Aalto not in evidence")
H("small_number","How many availability zones is the cluster spread across?",
 ['NAME                          STATUS   ZONE\nip-10-0-1-12.ec2.internal     Ready    us-east-1a\nip-10-0-2-40.ec2.internal     Ready    us-east-1b\nip-10-0-2-77.ec2.internal     Ready    us-east-1b\nip-10-0-3-9.ec2.internal      Ready    us-east-1a'],
 "The cluster's 4 nodes are spread across 3 availability zones.",
 "only 2 zones (us-east-1a, us-east-1b)")
H("question_echo","Why was Priya charged the $89 late fee?",
 ['{"account":"Priya S.","fees":[{"type":"late_fee","amount":39.00,"reason":"payment received 6 days after due date","date":"2024-08-07"}]}'],
 "Priya was charged the $89 late fee because her payment arrived 6 days after the due date.",
 "fee is 39.00; $89 only in question")
H("version","Which Python version does the image use?",
 ['Step 1/9 : FROM python:3.11.9-slim-bookworm\n ---> 6f1e6a8d0b3c'],
 "The image is built on python:3.11.7-slim-bookworm.",
 "base image is python:3.11.9-slim-bookworm")
H("wrong_arithmetic","What's the total weight of the shipment?",
 ['{"shipment":"SHP-3021","packages":[{"id":1,"weight_kg":12.4},{"id":2,"weight_kg":8.75},{"id":3,"weight_kg":3.1}]}'],
 "Shipment SHP-3021 has 3 packages weighing 25.25 kg in total.",
 "12.4 + 8.75 + 3.1 = 24.25")
H("invented_detail","What's the status of the Q3 close task list?",
 ['{"board":"Q3 close","tasks":[{"title":"Reconcile AR","status":"done"},{"title":"Accruals review","status":"in_progress","owner":"m.ferreira"},{"title":"Intercompany eliminations","status":"todo"}]}'],
 "AR reconciliation is done, accruals review is in progress with m.ferreira, and intercompany eliminations haven't started yet but are due Friday.",
 "due date (Friday) not in evidence")
H("wrong_unit","How far is the drive to the venue?",
 ['{"routes":[{"summary":"A10","distance_m":48200,"duration_s":2940}]}'],
 "The drive via the A10 is about 48 miles and takes roughly 49 minutes.",
 "48200 m = 48.2 km (~30 miles), not 48 miles")
H("wrong_scale","What's the market cap of the company?",
 ['{"symbol":"NRTH","price":41.22,"shares_outstanding":312500000,"market_cap":12881250000}'],
 "NRTH has a market cap of about $1.29 billion at $41.22 a share.",
 "market_cap 12881250000 ≈ $12.9 billion")
H("wrong_scale","How much storage does the tenant use?",
 ['{"tenant":"t_globex","storage_bytes":734003200}'],
 "t_globex is using about 7 GB of storage.",
 "734003200 bytes ≈ 700 MiB / 734 MB")
# ---------------------------------------------------------------- templated (seeded)
import json, random, datetime as dt
R = random.Random(20261207)
T = []
def add(kind,q,ev,a,note): T.append(dict(kind=kind,question=q,evidence=ev,answer=a,note=note))
J = lambda o: json.dumps(o, ensure_ascii=False)
FIRST=["Amara","Lukas","Mei","Diego","Fatima","Oskar","Nadia","Tariq","Elena","Kofi","Ingrid","Ravi","Chloe","Mateo","Yuki","Hassan","Greta","Samir"]
LAST=["Okonkwo","Brandt","Tanaka","Moreno","Haddad","Lindgren","Petrova","Qureshi","Rossi","Mensah","Solberg","Iyer","Dubois","Herrera","Sato","Karimi","Vogel","Farouk"]
def person(): return R.choice(FIRST)+" "+R.choice(LAST)
def tweak(n):
    s=str(n); i=R.randrange(1,len(s)) if len(s)>1 else 0
    d=R.choice([c for c in "0123456789" if c!=s[i]]); return int(s[:i]+d+s[i+1:])
def money(c): return f"${c/100:,.2f}"
def fmt_day(d): return d.strftime("%B ")+str(d.day)+d.strftime(", %Y")
def rdate(): return dt.datetime(2024,1,1,tzinfo=dt.timezone.utc)+dt.timedelta(days=R.randrange(0,700),minutes=R.randrange(0,1440))

# wrong_number (6)
for k in range(6):
    v=k%3
    if v==0:
        sku=f"{R.choice(['BOLT','VALVE','CABLE','FILTER'])}-{R.randrange(100,999)}"; wh=R.choice(["DAL-2","SEA-1","ATL-3"])
        on=R.randrange(120,9800); rp=R.randrange(50,110); w=tweak(on)
        add("wrong_number",f"How many units of {sku} are on hand in {wh}?",[J({"sku":sku,"warehouse":wh,"on_hand":on,"reorder_point":rp,"last_count":rdate().date().isoformat()})],
            R.choice([f"There are {w:,} units of {sku} on hand in {wh}, well above the reorder point of {rp}.",f"{wh} currently holds {w:,} units of {sku}."]),
            f"on_hand is {on}, answer says {w}")
    elif v==1:
        nm=person(); tot=R.randrange(10000,250000); w=tweak(tot); rid=f"ER-{R.randrange(1000,9999)}"
        add("wrong_number",f"What's the total on expense report {rid}?",[J({"report_id":rid,"employee":nm,"total":f"{tot/100:.2f}","currency":"USD","status":"approved","submitted":rdate().isoformat().replace('+00:00','Z')})],
            f"Expense report {rid} from {nm} was approved for a total of {money(w)}.",
            f"total is {tot/100:.2f}, answer says {w/100:.2f}")
    else:
        key=f"key_{R.randrange(16**6):06x}"; used=R.randrange(20000,900000); quota=1000000; w=tweak(used)
        add("wrong_number","How many API requests have we made this month?",[f"api_key={key} period=2024-{R.randrange(1,13):02d} requests={used} quota={quota} overage=false"],
            f"You've made {w:,} requests this month out of your {quota:,} quota, so no overage.",
            f"requests={used}, answer says {w}")

# wrong_date (6)
for k in range(6):
    v=k%3; d=rdate().replace(hour=R.randrange(10,18)); sh=R.choice([-1,1,2,-2])
    wd=d+dt.timedelta(days=sh)
    if v==0:
        tr=f"{R.randrange(10**11,10**12)}"
        add("wrong_date","When was my parcel delivered?",[J({"tracking":tr,"carrier":"DHL","events":[{"status":"out_for_delivery","at":(d-dt.timedelta(hours=3)).strftime('%Y-%m-%dT%H:%M:%S+00:00')},{"status":"delivered","at":d.strftime('%Y-%m-%dT%H:%M:%S+00:00'),"location":"Front door"}]})],
            f"Your parcel was delivered to the front door on {fmt_day(wd)}.",
            f"delivered at {d.date()}, answer says {wd.date()}")
    elif v==1:
        d=d.replace(hour=12); wd=d+dt.timedelta(days=sh); ms=int(d.timestamp()*1000)
        add("wrong_date","When does my free trial end?",[J({"workspace":f"ws_{R.randrange(10**5,10**6)}","plan":"trial","trial_ends_at":ms,"seats":R.randrange(2,9)})],
            f"Your free trial ends on {fmt_day(wd)}.",
            f"trial_ends_at {ms} ms = {d.date()} UTC, answer says {wd.date()}")
    else:
        nm=person()
        add("wrong_date",f"When did {nm.split()[0]} start at the company?",[J({"employee_id":f"E{R.randrange(10000,99999)}","name":nm,"hire_date":d.date().isoformat(),"department":R.choice(["Finance","Support","Legal","Data"])})],
            f"{nm} started on {fmt_day(wd)}.",
            f"hire_date is {d.date()}, answer says {wd.date()}")

# inverted_status (6)
for k in range(6):
    v=k%3
    if v==0:
        sid=f"sub_{R.randrange(16**8):08x}"; ca=rdate(); nick=R.choice(["Starter","Plus","Team"])
        add("inverted_status","Is my subscription still active?",[J({"id":sid,"status":"canceled","canceled_at":int(ca.timestamp()),"plan":{"nickname":nick}})],
            R.choice(["Yes, your subscription is still active.","Your subscription is active and in good standing.","It's active - you're still subscribed to the %s plan." % nick]),
            "status canceled, answer says active")
    elif v==1:
        run=R.randrange(10**6,10**7); br=R.choice(["main","release/3.x","develop"])
        add("inverted_status",f"Did CI pass on {br}?",[f"{R.choice(['buildkite','circleci'])} build #{run} branch={br} state=passed duration={R.randrange(200,1500)}s tests={R.randrange(300,3000)} failures=0"],
            f"No, build #{run} on {br} failed.",
            "state=passed failures=0, answer says failed")
    else:
        sku=f"{R.choice(['LAMP','DESK','CHAIR','SHELF'])}-{R.randrange(10,99)}"; q=R.randrange(4,60)
        add("inverted_status",f"Is {sku} available?",[J({"sku":sku,"in_stock":True,"quantity":q,"backorder":False})],
            f"Sorry, {sku} is currently out of stock.",
            f"in_stock true, quantity {q}")

# swapped_values (6)
for k in range(6):
    v=k%3
    if v==0:
        a,b=person(),person()
        while b.split()[0]==a.split()[0]: b=person()
        sa,sb=R.randrange(55,99),R.randrange(55,99)
        while sb==sa: sb=R.randrange(55,99)
        add("swapped_values",f"What were the review scores for {a.split()[0]} and {b.split()[0]}?",[f"employee,cycle,score\n{a},2024H2,{sa}\n{b},2024H2,{sb}"],
            f"{a} scored {sb} and {b} scored {sa} in the 2024H2 cycle.",
            f"scores swapped: {a} {sa}, {b} {sb}")
    elif v==1:
        c1,c2=R.sample(["api-gw","auth","billing","search","notifier"],2); r1,r2=R.sample(range(1,40),2)
        add("swapped_values","How many restarts did each service have today?",[f"{c1}-7d9f restarts={r1} status=Running\n{c2}-5c2a restarts={r2} status=Running"],
            f"{c1} restarted {r2} times and {c2} restarted {r1} times today.",
            f"swapped: {c1} {r1}, {c2} {r2}")
    else:
        t1,t2=R.sample(["Austin","Denver","Toronto","Dublin","Porto"],2); p1,p2=R.sample(range(240,980),2)
        add("swapped_values",f"How much are the flights to {t1} and {t2}?",[J({"results":[{"dest":t1,"price":p1,"currency":"USD"},{"dest":t2,"price":p2,"currency":"USD"}]})],
            f"The cheapest fare to {t1} is ${p2} and to {t2} it's ${p1}.",
            f"prices swapped: {t1} {p1}, {t2} {p2}")

# wrong_name (6)
PAIRS=[("Katarzyna Nowak","Katarzyna Novak"),("Siobhan O'Neill","Siobhan O'Neil"),("Jonathan Pryce","Jonathan Price"),("Anneliese Vogt","Annelise Vogt"),("Mohammed Al-Sayed","Mohammed Al-Sayyid"),("Thabo Nkosi","Thabo Nkomo")]
for k,(right,wrong) in enumerate(PAIRS):
    v=k%3
    if v==0:
        add("wrong_name","Who signed for the delivery?",[J({"shipment":f"SH{R.randrange(10**7,10**8)}","status":"delivered","signed_by":right,"delivered_at":rdate().isoformat()})],
            f"The delivery was signed for by {wrong}.", f"signed_by is {right}")
    elif v==1:
        add("wrong_name","Who is the account manager for this customer?",[J({"customer_id":f"cus_{R.randrange(16**10):010x}","company":R.choice(["Vantage Foods","Helio Labs","Oakridge Clinics"]),"account_manager":right,"tier":"gold"})],
            f'The account manager is "{wrong}".', f"account_manager is {right}")
    else:
        add("wrong_name","Who filed the bug?",[f"#{R.randrange(1000,9999)} Crash when exporting PDF · opened {R.randrange(2,20)} days ago by {right} · label: bug, p1"],
            f"It was filed by {wrong} and labelled p1.", f"opened by {right}")

# invented_entity (6)
POOL=[("Wireless Mouse","USB-C Dock","Laptop Stand","Webcam HD"),("Mocha","Flat White","Chai Latte","Matcha Latte"),("pytest","ruff","mypy","black")]
for k in range(6):
    v=k%3; items=list(POOL[v][:3]); R.shuffle(items); extra=POOL[v][3]
    if v==0:
        oid=f"#{R.randrange(100000,999999)}"
        add("invented_entity",f"What's in order {oid}?",[J({"order":oid,"items":[{"name":i,"qty":1} for i in items[:2]]})],
            f"Order {oid} contains a {items[0]}, a {items[1]} and a {extra}.", f"{extra} not in order")
    elif v==1:
        s=R.randrange(100,999)
        add("invented_entity","What did store #%d sell most today?"%s,[f"store={s} item={items[0]} sold={R.randrange(80,200)}\nstore={s} item={items[1]} sold={R.randrange(20,79)}"],
            f"Top sellers at store {s} today were {items[0]}, {items[1]} and {extra}.", f"{extra} not in evidence")
    else:
        p=R.choice(["lib-core","ingest","webapp"])
        add("invented_entity",f"Which dev tools does {p} pin?",[f"[tool.{p}.dev-dependencies]\n{items[0]} = \"=={R.randrange(1,9)}.{R.randrange(0,20)}.{R.randrange(0,9)}\"\n{items[1]} = \"=={R.randrange(0,2)}.{R.randrange(1,12)}.{R.randrange(0,9)}\""],
            f"{p} pins {items[0]}, {items[1]} and {extra} as dev dependencies.", f"{extra} not pinned")

# small_number (6)
for k in range(6):
    v=k%3
    if v==0:
        n=R.randrange(2,8); pr=R.randrange(100,999); w=n+R.choice([-1,1])
        names=R.sample(["ci/lint","ci/unit","ci/e2e","ci/build","ci/docs","ci/typecheck","ci/security","ci/bench"],n)
        add("small_number",f"How many checks ran on PR #{pr}?",[J({"pull_request":pr,"check_runs":[{"name":x,"conclusion":"success"} for x in names]})],
            f"{w} checks ran on PR #{pr} and all of them passed.", f"{n} check runs in evidence, answer says {w}")
    elif v==1:
        n=R.randrange(2,7); w=n+R.choice([-1,1,2]); ad=R.randrange(2,6)
        add("small_number","How many guests are on the reservation?",[J({"reservation":f"RSV-{R.randrange(10**5,10**6)}","restaurant":R.choice(["Osteria Nove","Kin Khao","Le Petit Zinc"]),"party_size":n,"time":f"2025-0{R.randrange(1,10)}-{R.randrange(10,28)}T19:30:00"})],
            f"The reservation is for a party of {w} at 7:30 PM.", f"party_size is {n}")
    else:
        n=R.randrange(2,9); w=n+R.choice([-1,1])
        t0=rdate(); jid=R.randrange(10**4,10**5); wk=R.randrange(1,9)
        lines="\n".join(f"{(t0+dt.timedelta(seconds=30*2**i)).strftime('%Y-%m-%dT%H:%M:%S')}Z WARN worker-{wk} job={jid} retrying (attempt {i+1})" for i in range(n))
        add("small_number","How many times did the job retry?",[lines],
            f"The job retried {w} times.", f"{n} retry lines in the log, answer says {w}")

# question_echo (6)
for k in range(6):
    v=k%3
    if v==0:
        amt=R.randrange(20,400); qa=amt+R.choice([10,-10,5,100]); oid=R.randrange(10000,99999)
        add("question_echo",f"Please confirm order {oid} came to ${qa}.",[J({"order_id":oid,"grand_total":f"{amt}.00","currency":"USD","status":"complete"})],
            f"Confirmed - order {oid} came to ${qa}.00 and is complete.", f"grand_total is {amt}.00; {qa} only in question")
    elif v==1:
        right,wrong=R.choice([("Nakamura","Nakagawa"),("Fitzgerald","Fitzpatrick"),("Oyelaran","Oyelowo")])
        fn=R.choice(FIRST)
        add("question_echo",f"What's {fn} {wrong}'s phone extension?",[J({"directory":[{"name":f"{fn} {right}","ext":str(R.randrange(2000,7999)),"dept":"Procurement"}]})],
            f"{fn} {wrong}'s extension is " + "%s in Procurement.", f"directory name is {fn} {right}; {wrong} only in question")
        T[-1]["answer"]=T[-1]["answer"] % json.loads(T[-1]["evidence"][0])["directory"][0]["ext"]
    else:
        gb=R.randrange(20,90); gd=R.randrange(0,9); qg=gb+R.choice([10,20,-10])
        add("question_echo",f"Our backup bucket is {qg} GB, right?",[f"s3://backups-prod  total_objects={R.randrange(1000,9000)}  total_size={gb}.{gd} GiB"],
            f"Yes, the backups-prod bucket is about {qg} GB.", f"total_size is {gb}.{gd} GiB; {qg} only in question")

# version (6)
for k in range(6):
    v=k%3
    ma,mi,pa=R.randrange(1,9),R.randrange(0,30),R.randrange(1,15)
    ver=f"{ma}.{mi}.{pa}"; wv=R.choice([f"{ma}.{mi}.{pa-1}",f"{ma}.{mi}.{pa+1}",f"{ma}.{mi+1}.{pa}"])
    if v==0:
        pkg=R.choice(["zod","axios","date-fns","pino","undici"])
        add("version",f"What's the latest {pkg} on npm?",[J({"name":pkg,"dist-tags":{"latest":ver},"time":{ver:rdate().isoformat()}})],
            f"The latest {pkg} on npm is {wv}.", f"dist-tags.latest is {ver}")
    elif v==1:
        svc=R.choice(["ledger","inventory","gateway"])
        add("version",f"Which version of {svc} is deployed?",[f"$ helm list -n prod\nNAME\tNAMESPACE\tREVISION\tSTATUS  \tCHART\t\tAPP VERSION\n{svc}\tprod\t{R.randrange(10,90)}\tdeployed\t{svc}-{R.randrange(0,3)}.{R.randrange(0,9)}.0\t{ver}"],
            f"{svc} in prod is running app version {wv}.", f"APP VERSION {ver}")
    else:
        add("version","Which client version was the user on when it crashed?",[J({"event_id":f"{R.randrange(16**12):012x}","level":"fatal","release":f"mobile@{ver}","os":"iOS 17.5"})],
            f"The crash happened on mobile release {wv} on iOS 17.5.", f"release mobile@{ver}")

# wrong_arithmetic (6)
for k in range(6):
    v=k%3
    if v==0:
        xs=[R.randrange(500,9000) for _ in range(3)]; s=sum(xs); w=s+R.choice([100,-100,10,1000,-10])
        add("wrong_arithmetic","What's the cart total in cents-free dollars?",[J({"line_items":[{"price_cents":x} for x in xs]})],
            f"The three items come to {money(w)} in total.", f"sum is {money(s)}")
        T[-1]["question"]="What's the total for the items in my cart?"
    elif v==1:
        a,b=R.randrange(300,900),R.randrange(50,290); d=a-b; w=d+R.choice([10,-10,100])
        add("wrong_arithmetic","How many more tickets were opened than closed this week?",[f"week=2024-W{R.randrange(10,50)} opened={a} closed={b}"],
            f"{w} more tickets were opened than closed ({a} opened vs {b} closed).", f"{a}-{b}={d}")
    else:
        xs=[R.randrange(40,100) for _ in range(4)]; s=sum(xs)
        if s%4: xs[0]+=4-s%4; s=sum(xs)
        avg=s//4; w=avg+R.choice([-2,2,3,-3])
        add("wrong_arithmetic","What's the average CPU across the four nodes?",[f"node-a cpu={xs[0]}%\nnode-b cpu={xs[1]}%\nnode-c cpu={xs[2]}%\nnode-d cpu={xs[3]}%"],
            f"Average CPU across the four nodes is {w}%.", f"average is {avg}%")

# invented_detail (6)
for k in range(6):
    v=k%3
    if v==0:
        tk=f"SUP-{R.randrange(1000,9999)}"; who=person()
        add("invented_detail",f"What's happening with {tk}?",[J({"key":tk,"status":"In Progress","assignee":who,"priority":"P2"})],
            f"{tk} is in progress with {who} (P2); a fix is planned for the next release.", "planned fix not in evidence")
    elif v==1:
        city=R.choice(["Madrid","Chicago","Seoul"]); t=R.randrange(8,30)
        add("invented_detail",f"What's the weather in {city} now?",[J({"city":city,"temp_c":t,"conditions":"partly cloudy","wind_kph":R.randrange(5,25)})],
            f"It's {t}°C and partly cloudy in {city}, with rain expected this evening.", "rain forecast not in evidence")
    else:
        pkg=R.choice(["tinyhttp","quickcsv","yamlite"]); lic=R.choice(["MIT","Apache-2.0","BSD-3-Clause"])
        add("invented_detail",f"What license is {pkg} under?",[J({"name":pkg,"license":lic,"version":f"{R.randrange(1,5)}.{R.randrange(0,9)}.{R.randrange(0,9)}"})],
            f"{pkg} is licensed under {lic} and has no runtime dependencies.", "dependency claim not in evidence")

# wrong_unit (6)
for k in range(6):
    v=k%3
    if v==0:
        c=R.randrange(1000,99999)
        add("wrong_unit","How much is the payout?",[J({"payout":f"po_{R.randrange(16**8):08x}","amount":c,"currency":"usd","status":"in_transit"})],
            f"The payout of ${c:,} is in transit.", f"amount {c} cents = {money(c)}")
    elif v==1:
        s=R.choice([90,120,300,600,900])
        add("wrong_unit","What's the cache TTL?",[f"cache:\n  backend: redis\n  ttl_seconds: {s}"],
            f"The cache TTL is {s} minutes.", f"ttl_seconds {s} = {s//60 if s%60==0 else s/60} min")
    else:
        kb=R.randrange(200,900); gz=kb*R.randrange(26,38)//100
        add("wrong_unit","How large is the bundle?",[f"dist/main.js  {kb} kB │ gzip: {gz} kB"],
            f"The main bundle is {kb} MB ({gz} MB gzipped).", f"{kb} kB, not MB")

# wrong_scale (6)
for k in range(6):
    v=k%3
    if v==0:
        n=R.randrange(1_100_000,9_900_000)
        add("wrong_scale","How many page views last month?",[J({"metric":"pageviews","month":"2024-10","value":n})],
            f"About {n/100_000:.1f} million page views last month.".replace(f"{n/100_000:.1f}",f"{n/100_000:.0f}"), f"{n} ≈ {n/1e6:.1f} million")
    elif v==1:
        n=R.randrange(1200,9800)
        add("wrong_scale","How many customers are on the waitlist?",[f"waitlist_size: {n}"],
            f"There are about {n/100:.0f} thousand people on the waitlist." , f"{n} ≈ {n/1000:.1f} thousand")
    else:
        r=R.randrange(11,95)/1000
        add("wrong_scale","What's the churn rate?",[J({"period":"2024-Q3","churn_rate":r,"churned":R.randrange(40,400)})],
            f"Churn for Q3 2024 was {r*1000:.0f}%." , f"churn_rate {r} = {r*100:.1f}%")

def build(cases):
    cnt = collections.Counter(); out = []
    for c in cases:
        cnt[c["kind"]] += 1
        out.append({"id": f"h-{c['kind']}-{cnt[c['kind']]:02d}", "kind": c["kind"], "question": c["question"],
                    "evidence": c["evidence"], "answer": c["answer"], "label": "hallucinated",
                    "checkable": True, "note": c["note"]})
    return out

if __name__ == "__main__":
    rows = build(C + T)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "part-hallucinated.jsonl")
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(rows), "cases ->", path, "| hand-written:", len(C), "templated:", len(T))
