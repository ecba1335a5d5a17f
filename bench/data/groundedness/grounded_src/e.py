# Hand-written grounded cases, read by ../make_grounded.py (which defines g).
# names
g("names", "Who approved the expense report?",
  ['{"report": "EXP-4410", "approver": {"name": "Gwen Albright", "role": "Finance Manager"}, "approved_at": "2024-02-08"}'],
  "Gwen Albright, the Finance Manager, approved EXP-4410 on February 8, 2024.", "name unquoted, role")
g("names", "What's the title of the top-rated book in the results?",
  ['[{"title": "The Quiet Orbit", "author": "Maren Solberg", "rating": 4.7}, {"title": "Salt and Circuit", "author": "D. Okoro", "rating": 4.3}]'],
  "The top-rated result is \"The Quiet Orbit\" by Maren Solberg, rated 4.7.", "quoted title, author")
g("names", "Which hotel is my reservation at?",
  ['{"confirmation": "HX88Q1", "hotel": "Hotel Santa Justa Lisboa", "check_in": "2024-10-11", "nights": 3}'],
  "Your reservation HX88Q1 is at Hotel Santa Justa Lisboa, checking in on October 11, 2024, for 3 nights.", "hotel name unquoted")
g("names", "Who reported the bug?",
  ['{"issue": 4471, "title": "Crash on empty CSV upload", "reporter": "lucas-m", "labels": ["bug", "p2"]}'],
  "Issue #4471, \"Crash on empty CSV upload\", was reported by lucas-m and is labelled bug and p2.", "reporter handle, quoted title")
g("names", "Which restaurant did the team book for Friday?",
  ['{"booking": "R-551", "venue": "Casa Lupita", "party_size": 8, "time": "2024-06-21T19:30:00"}'],
  "The team is booked at Casa Lupita for 8 people on Friday, June 21, at 7:30 PM.", "2024-06-21 is Friday")
g("names", "Who's the account manager for Initech?",
  ['{"company": "Initech", "account_manager": "Bill Lumbergh", "csm": "Joanna Park", "arr_usd": 182000}'],
  "Initech's account manager is Bill Lumbergh, and Joanna Park is their customer success manager.", "names unquoted")
g("names", "What's the name of the failing test?",
  ['FAILED tests/api/test_orders.py::test_refund_partial_amount - AssertionError: 40 != 45'],
  "The failing test is test_refund_partial_amount in tests/api/test_orders.py; it expected 45 but got 40.", "AssertionError: 40 != 45 means got 40 expected 45 (pytest convention: left is actual)")
g("names", "Which speaker is giving the keynote?",
  ['{"event": "DataConf 2024", "keynote": {"speaker": "Dr. Amara Nwosu", "talk": "Small Models, Big Wins"}}'],
  "The DataConf 2024 keynote is Dr. Amara Nwosu, with the talk \"Small Models, Big Wins\".", "speaker and talk")
g("names", "What's the doctor's name for my referral?",
  ['{"referral": "REF-2093", "specialist": "Dr. Tobias Lindqvist", "department": "Cardiology", "clinic": "St. Olav Clinic"}'],
  "Your referral REF-2093 is to Dr. Tobias Lindqvist in Cardiology at St. Olav Clinic.", "names unquoted")
g("names", "Which repository had the most commits this week?",
  ['[{"repo": "platform/api-gateway", "commits": 87}, {"repo": "platform/web", "commits": 64}, {"repo": "data/pipelines", "commits": 22}]'],
  "platform/api-gateway had the most commits this week, with 87.", "max repo")
g("names", "Who is the emergency contact?",
  ['{"employee": "R. Gupta", "emergency_contact": {"name": "Meera Gupta", "relation": "spouse", "phone": "+44 20 7946 0958"}}'],
  "The emergency contact is Meera Gupta (spouse), reachable at +44 20 7946 0958.", "name, relation, phone")
g("names", "What's the product called in the catalogue?",
  ['{"sku": "LMP-220", "display_name": "Arc Floor Lamp – Brushed Brass", "category": "Lighting"}'],
  "LMP-220 is listed as the \"Arc Floor Lamp – Brushed Brass\" in the Lighting category.", "quoted display name")

# small_number
g("small_number", "How many items are in my cart?",
  ['{"cart": [{"sku": "P1", "qty": 2}, {"sku": "P2", "qty": 1}]}'],
  "You have 3 items in your cart: two of P1 and one of P2.", "2+1")
g("small_number", "How many replicas does the deployment run?",
  ['{"deployment": "checkout", "replicas": 4, "available": 4}'],
  "The checkout deployment runs 4 replicas, and all 4 are available.", "replicas 4")
g("small_number", "How many times did the job retry?",
  ['{"job": "export-csv", "attempts": 3, "final_state": "succeeded"}'],
  "export-csv succeeded after 3 attempts, i.e. it was retried twice.", "3 attempts = 2 retries")
g("small_number", "How many bedrooms does the listing have?",
  ['{"listing": "L-3390", "bedrooms": 2, "bathrooms": 1, "sqft": 860}'],
  "The listing has 2 bedrooms, 1 bathroom and 860 sq ft.", "small counts")
g("small_number", "How many open incidents are there?",
  ['[{"id": "INC-1", "state": "open"}, {"id": "INC-2", "state": "resolved"}, {"id": "INC-3", "state": "open"}]'],
  "There are 2 open incidents: INC-1 and INC-3.", "count 2")
g("small_number", "How many stops does the flight have?",
  ['{"itinerary": "LIS-NRT", "segments": [{"from": "LIS", "to": "FRA"}, {"from": "FRA", "to": "NRT"}]}'],
  "The Lisbon–Tokyo itinerary has one stop, in Frankfurt.", "2 segments = 1 stop")
g("small_number", "How many reviewers approved the PR?",
  ['{"pr": 1882, "reviews": [{"user": "ana", "state": "APPROVED"}, {"user": "bo", "state": "COMMENTED"}, {"user": "cy", "state": "APPROVED"}]}'],
  "Two reviewers approved PR #1882 (ana and cy); bo only commented.", "2 approvals")
g("small_number", "What rating did the customer give?",
  ['{"survey": "CSAT-2210", "rating": 4, "scale_max": 5, "comment": "quick fix, thanks"}'],
  "The customer rated the support 4 out of 5 and commented \"quick fix, thanks\".", "rating 4/5")
g("small_number", "How many vacation days do I have left?",
  ['{"employee": "E-1120", "allowance_days": 25, "taken_days": 19}'],
  "You have 6 vacation days left (25 allowed, 19 taken).", "25-19=6")
g("small_number", "How many nodes are unhealthy?",
  ['NAME      STATUS     ROLES\nnode-a    Ready      worker\nnode-b    NotReady   worker\nnode-c    Ready      worker\nnode-d    Ready      control-plane'],
  "One node is unhealthy: node-b is NotReady. The other three are Ready.", "1 NotReady")

# no_claims (checkable false)
for q, ev, a in [
    ("hi there", ['{"note": "no tool called"}'], "Hi! How can I help you today?"),
    ("Can you check my order?", ['{"error": "missing_parameter", "message": "order_id is required"}'], "Sure, which order would you like me to check? Please share the order number."),
    ("thanks, that's all", ['{"note": "no tool called"}'], "You're welcome! Have a great day."),
    ("I need help with billing", ['{"note": "no tool called"}'], "Happy to help with billing. What would you like to know?"),
    ("Book me a table", ['{"error": "missing_parameter", "message": "date, time and party size are required"}'], "I can do that. For which date and time, and how many people?"),
    ("What can you do?", ['{"tools": ["lookup_order", "create_ticket", "check_status"]}'], "I can look things up for you, open support requests and check on their progress. What do you need?"),
    ("ok", ['{"note": "no tool called"}'], "Great. Let me know if there's anything else."),
    ("Can you reset my password?", ['{"error": "needs_confirmation"}'], "I can help with that. Can you confirm you'd like me to send a reset link to the email on your account?"),
    ("hello?", ['{"note": "no tool called"}'], "Yes, I'm here. What can I do for you?"),
    ("I want to cancel", ['{"error": "ambiguous", "message": "user has multiple subscriptions"}'], "Which subscription would you like to cancel?"),
    ("Schedule a meeting with the team", ['{"error": "missing_parameter", "message": "time window required"}'], "Sure. When should the meeting be, and how long should it last?"),
    ("Good morning", ['{"note": "no tool called"}'], "Good morning! What would you like to work on?"),
    ("Can you help me with a refund?", ['{"error": "missing_parameter", "message": "order_id is required"}'], "Of course. Which order is the refund for?"),
    ("never mind", ['{"note": "no tool called"}'], "No problem. I'm here if you need anything."),
    ("Compare the two plans", ['{"error": "ambiguous", "message": "which plans?"}'], "Which two plans would you like me to compare?"),
]:
    g("no_claims", q, ev, a, "no factual claim: greeting, clarification or acknowledgement", checkable=False)
