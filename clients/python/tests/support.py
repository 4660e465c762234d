"""Shared set-up for tests that talk to a real server.

The server address comes from LUCIEN_TARGET (the jest wrapper in
test/clients/python-client.test.ts starts a server and sets it). Without it
the tests fail loudly: silently skipping would hide a broken client.
"""

from __future__ import annotations

import os
import unittest
import uuid
from typing import Callable

import grpc

from lucien import Client, LucienError


def target() -> str:
    value = os.environ.get("LUCIEN_TARGET", "")
    if not value:
        raise RuntimeError("set LUCIEN_TARGET=host:port of a running Lucien server")
    return value


def unique(prefix: str) -> str:
    """A bucket or script name no other test (or earlier run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class ServerTestCase(unittest.TestCase):
    """One client per test class, closed at the end."""

    client: Client

    @classmethod
    def setUpClass(cls) -> None:
        cls.client = Client(target(), timeout=30)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.close()

    def assertFails(self, code: grpc.StatusCode, fn: Callable[[], object], error_code: str = "") -> LucienError:
        """fn raises a LucienError with this gRPC status (and Lucien code, when given)."""
        with self.assertRaises(LucienError) as ctx:
            fn()
        err = ctx.exception
        self.assertEqual(err.code, code, f"expected {code.name}, got {err.code.name}: {err.details}")
        if error_code:
            self.assertEqual(err.error_code, error_code, f"details: {err.details}")
        return err
