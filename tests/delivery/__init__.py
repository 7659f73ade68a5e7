"""Tests of rooms/delivery: what reaches people who are away."""
