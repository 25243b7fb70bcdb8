"""Events out of every state change: the outbox, the feed, webhooks, deadline warnings and notice senders."""
