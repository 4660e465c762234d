"""Tests of the Python client against a real server (LUCIEN_TARGET=host:port)."""
