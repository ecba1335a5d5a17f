# Hand-written grounded cases, read by ../make_grounded.py (which defines g).
# hedged
g("hedged", "Will my package arrive before Friday?",
  ['{"tracking": "9400111899223", "status": "in_transit", "estimated_delivery": "2024-06-14", "last_scan": "Memphis, TN"}'],
  "It's currently in transit (last scanned in Memphis, TN) with an estimated delivery of June 14, 2024. Estimates can slip, so I can't promise it will arrive before Friday.", "estimate restated, no guarantee")
g("hedged", "Is the outage caused by the new release?",
  ['{"release": "v3.9.0", "deployed_at": "2024-04-02T10:00:00Z"}', '{"alert": "HighErrorRate", "fired_at": "2024-04-02T10:07:00Z", "service": "orders"}'],
  "Possibly: the HighErrorRate alert on orders fired at 10:07 UTC, seven minutes after v3.9.0 was deployed, but the data I have doesn't prove the release caused it.", "timing correct, causality hedged")
g("hedged", "Is this customer likely to churn?",
  ['{"customer": "Blue Harbor Ltd", "logins_last_30d": 2, "logins_prev_30d": 41, "open_tickets": 3}'],
  "There are warning signs: Blue Harbor Ltd logged in only 2 times in the last 30 days versus 41 the month before, and has 3 open tickets. I can't say for sure they'll churn.", "figures correct, prediction hedged")
g("hedged", "Does the library support Python 3.13?",
  ['{"name": "geoparse", "version": "1.4.2", "classifiers": ["Programming Language :: Python :: 3.10", "Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12"]}'],
  "geoparse 1.4.2 lists Python 3.10 to 3.12 in its classifiers; 3.13 isn't listed, so support is unconfirmed.", "classifiers restated, hedged")
g("hedged", "How many people will attend the webinar?",
  ['{"webinar": "Scaling Postgres", "registrations": 842, "historical_attendance_rate": "around 40%"}'],
  "842 people have registered. If attendance follows the usual rate of around 40%, expect roughly 340 attendees, but that's only an estimate.", "842*0.4=336.8 ~ 340, hedged")
g("hedged", "Is the flight going to be delayed?",
  ['{"flight": "BA287", "scheduled_departure": "2024-08-21T11:25:00+01:00", "status": "scheduled", "inbound_aircraft_delay_minutes": 35}'],
  "BA287 is still shown as scheduled for 11:25, but its inbound aircraft is running 35 minutes late, so a delay seems possible.", "status restated, delay hedged")
g("hedged", "Did the user receive our email?",
  ['{"message_id": "msg_51x", "to": "r.cole@example.net", "events": [{"type": "delivered", "at": "2024-03-03T08:01:00Z"}]}'],
  "The email to r.cole@example.net was delivered on March 3, 2024, but there's no open event, so I can't tell whether they read it.", "delivered; no open event")
g("hedged", "Is the dataset complete for yesterday?",
  ['{"table": "events_daily", "partition": "2024-07-01", "rows": 18204411, "expected_rows_approx": 18500000, "status": "loaded"}'],
  "The 2024-07-01 partition is loaded with 18,204,411 rows, slightly under the roughly 18.5 million usually expected, so it may be missing a small amount of data.", "rows restated, hedged")
g("hedged", "Will the promotion code still work next week?",
  ['{"code": "SPRING20", "discount_percent": 20, "expires_at": null, "max_redemptions": 1000, "redemptions": 962}'],
  "SPRING20 has no expiry date, but only 38 of its 1,000 redemptions are left, so it might run out before next week.", "1000-962=38, hedged")
g("hedged", "Is the candidate a good fit for the role?",
  ['{"candidate": "Omar Haddad", "scores": {"system_design": 4, "coding": 3, "communication": 5}, "scale": "1-5"}'],
  "Omar Haddad scored 4 in system design, 3 in coding and 5 in communication on a 1–5 scale. Whether that's a good fit depends on what the role needs most.", "scores verbatim, judgment hedged")

# refusal
g("refusal", "What's the status of order ORD-99999?",
  ['{"error": "not_found", "message": "No order with id ORD-99999"}'],
  "I couldn't find an order with the ID ORD-99999. Could you double-check the number?", "not found restated")
g("refusal", "What is John's salary?",
  ['{"error": "forbidden", "message": "caller lacks scope hr.compensation.read"}'],
  "I'm not able to see compensation details: my access doesn't include that information.", "forbidden restated")
g("refusal", "Which customers complained last week?",
  ['[]'],
  "I didn't find any complaints logged last week.", "empty result")
g("refusal", "What's the tracking number for my return?",
  ['{"return": "RMA-3301", "status": "label_pending", "tracking": null}'],
  "Your return RMA-3301 doesn't have a tracking number yet: the shipping label is still pending.", "tracking null, label pending")
g("refusal", "How much did we spend on travel in 2019?",
  ['{"error": "out_of_range", "message": "expense data is available from 2021-01-01"}'],
  "I can't answer that: expense data only goes back to January 1, 2021.", "range restated")
g("refusal", "Can you tell me the weather in Atlantis?",
  ['{"error": "city_not_found", "query": "Atlantis"}'],
  "I couldn't find weather data for a place called Atlantis.", "not found")
g("refusal", "What did the CEO say in the board meeting?",
  ['{"results": [], "query": "board meeting minutes", "note": "no documents matched"}'],
  "I searched but found no board meeting minutes, so I can't tell you what was said.", "no documents")
g("refusal", "Is the API key sk-live-8f2 still valid?",
  ['{"error": "invalid_request", "message": "key lookups by partial value are not supported"}'],
  "I can't check that key from a partial value; lookups need the full key ID.", "restated limitation")
g("refusal", "Show me last month's invoices for Globex.",
  ['{"error": "timeout", "message": "billing service did not respond within 10s"}'],
  "The billing service timed out (no response within 10 seconds), so I couldn't fetch Globex's invoices. Please try again shortly.", "timeout restated")
g("refusal", "Which version of the app is user 882 running?",
  ['{"user_id": 882, "devices": []}'],
  "User 882 has no registered devices, so I can't tell which app version they're running.", "empty devices")
