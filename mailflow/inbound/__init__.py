"""Inbound mail: the SMTP listener and IMAP poller store raw bytes; the worker turns them into
answers, bounces, unsubscribes or named quarantine reasons."""
