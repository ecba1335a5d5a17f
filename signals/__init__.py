"""Quality signals: scores, evaluators, routing drift, alerts and the daily report."""
