"""JobNimbus webhooks: a receiver that stores each delivery durably before answering, and a sensor
that turns what is pending into one run fetching the named records from the API."""
