"""The outbox: claiming due rows, sending them through a transport, campaigns, the worker loop."""
