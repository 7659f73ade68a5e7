"""Sending what reaches people who are away: email and Web Push."""
