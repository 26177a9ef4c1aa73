"""Alerts: composing the message, planning outbox rows, and the console and JSONL sinks."""
