"""Key-value behaviour of the client against a real server (DESIGN.md §2, §3, §7)."""

from __future__ import annotations

import threading
import unittest

import grpc

import lucien
from lucien import Client, ConditionFailed, DeleteOp, InvalidArgument, LucienError, PutOp

from .support import ServerTestCase, target, unique

OK = grpc.StatusCode


class RoundTrips(ServerTestCase):
    def setUp(self) -> None:
        self.bucket = unique("rt")

    def test_put_then_get_returns_the_same_dict_and_revisions_increase(self) -> None:
        r1 = self.client.put(self.bucket, "k1", {"a": "value", "nested": {"list": [1, "two", None, True]}})
        r2 = self.client.put(self.bucket, "k2", {"b": 2})
        self.assertGreater(r1, 0)
        self.assertGreater(r2, r1)
        self.assertEqual(self.client.get(self.bucket, "k1"), {"a": "value", "nested": {"list": [1, "two", None, True]}})

    def test_put_accepts_json_text(self) -> None:
        self.client.put(self.bucket, "text", '{"hey": "there", "n": 1}')
        self.assertEqual(self.client.get(self.bucket, "text"), {"hey": "there", "n": 1})

    def test_python_repr_text_is_not_json_and_is_rejected(self) -> None:
        # The seed passed "{'a':'value'}"; we take JSON text or a dict, never eval.
        self.assertFails(OK.INVALID_ARGUMENT, lambda: self.client.put(self.bucket, "repr", "{'a':'value'}"))
        self.assertIsNone(self.client.get(self.bucket, "repr"))

    def test_get_of_a_missing_key_is_none(self) -> None:
        self.assertIsNone(self.client.get(self.bucket, "missing"))
        self.assertIsNone(self.client.get_full(self.bucket, "missing"))

    def test_delete_reports_whether_the_key_existed(self) -> None:
        self.client.put(self.bucket, "gone", {"x": 1})
        self.assertTrue(self.client.delete(self.bucket, "gone"))
        self.assertIsNone(self.client.get(self.bucket, "gone"))
        self.assertFalse(self.client.delete(self.bucket, "gone"))
        self.assertFalse(self.client.delete(self.bucket, "never-there"))

    def test_get_full_keeps_create_revision_and_moves_mod_revision(self) -> None:
        r1 = self.client.put(self.bucket, "v", {"n": 1})
        r2 = self.client.put(self.bucket, "v", {"n": 2})
        full = self.client.get_full(self.bucket, "v")
        assert full is not None
        self.assertEqual(full.value, {"n": 2})
        self.assertEqual(full.create_revision, r1)
        self.assertEqual(full.mod_revision, r2)

    def test_numbers_round_trip_exactly(self) -> None:
        value = {
            "max_safe": 2**53 - 1,
            "beyond_safe": 2**53 + 1,
            "int64_max": 2**63 - 1,
            "negative": -17,
            "zero": 0,
            "half": 0.5,
            "tiny": 1e-7,
            "in_list": [2**53 + 1, -(2**53) - 1, 0.1],
        }
        self.client.put(self.bucket, "numbers", value)
        got = self.client.get(self.bucket, "numbers")
        self.assertEqual(got, value)
        assert got is not None
        self.assertIs(type(got["beyond_safe"]), int)
        self.assertIs(type(got["zero"]), int)
        self.assertIs(type(got["half"]), float)
        # JSON text is sent as written, and comes back exact through List and BatchGet too.
        self.client.put(self.bucket, "text-numbers", '{"n": 9007199254740993, "m": -17, "h": 0.5}')
        expected = {"n": 9007199254740993, "m": -17, "h": 0.5}
        self.assertEqual(self.client.get(self.bucket, "text-numbers"), expected)
        self.assertEqual(dict(self.client.list(self.bucket, "text-"))["text-numbers"], expected)
        self.assertEqual(self.client.batch_get([(self.bucket, "text-numbers")]), [expected])

    def test_unicode_keys_and_values_round_trip_and_list_in_bytewise_order(self) -> None:
        keys = ["a", "z", "é", "ключ", "日本語", "\ufb01", "😀", "emoji 😀 key"]
        for i, key in enumerate(keys):
            self.client.put(self.bucket, key, {"i": i, "text": f"значение {key} ✓"})
        for i, key in enumerate(keys):
            self.assertEqual(self.client.get(self.bucket, key), {"i": i, "text": f"значение {key} ✓"})
        listed = self.client.list(self.bucket, keys_only=True)
        # UTF-8 byte order, not UTF-16 code-unit order: U+FB01 sorts before U+1F600.
        self.assertEqual(listed, sorted(keys, key=lambda k: k.encode("utf-8")))

    def test_list_buckets_names_a_bucket_that_holds_keys(self) -> None:
        self.client.put(self.bucket, "k", {})
        self.assertIn(self.bucket, self.client.list_buckets())

    def test_context_manager_closes_the_client(self) -> None:
        with Client(target(), timeout=30) as client:
            client.put(self.bucket, "cm", {"ok": True})
            self.assertEqual(client.get(self.bucket, "cm"), {"ok": True})
        with self.assertRaises(Exception):
            client.get(self.bucket, "cm")


class CompareAndSet(ServerTestCase):
    def setUp(self) -> None:
        self.bucket = unique("cas")

    def test_if_revision_zero_writes_only_when_absent(self) -> None:
        rev = self.client.put(self.bucket, "k", {"v": 1}, if_revision=0)
        self.assertGreater(rev, 0)
        err = self.assertFails(OK.FAILED_PRECONDITION, lambda: self.client.put(self.bucket, "k", {"v": 2}, if_revision=0))
        self.assertIsInstance(err, ConditionFailed)
        self.assertEqual(err.error_code, "CONDITION_FAILED")
        self.assertEqual(self.client.get(self.bucket, "k"), {"v": 1})

    def test_matching_revision_writes(self) -> None:
        rev = self.client.put(self.bucket, "k", {"v": 1})
        rev2 = self.client.put(self.bucket, "k", {"v": 2}, if_revision=rev)
        self.assertGreater(rev2, rev)
        self.assertEqual(self.client.get(self.bucket, "k"), {"v": 2})

    def test_stale_revision_fails_with_failed_precondition_and_writes_nothing(self) -> None:
        stale = self.client.put(self.bucket, "k", {"v": 1})
        self.client.put(self.bucket, "k", {"v": 2})
        err = self.assertFails(OK.FAILED_PRECONDITION, lambda: self.client.put(self.bucket, "k", {"v": 3}, if_revision=stale))
        self.assertIsInstance(err, ConditionFailed)
        self.assertEqual(self.client.get(self.bucket, "k"), {"v": 2})

    def test_matching_revision_on_a_missing_key_fails(self) -> None:
        self.assertFails(OK.FAILED_PRECONDITION, lambda: self.client.put(self.bucket, "nope", {"v": 1}, if_revision=1))
        self.assertIsNone(self.client.get(self.bucket, "nope"))

    def test_delete_with_a_stale_revision_fails_and_keeps_the_key(self) -> None:
        stale = self.client.put(self.bucket, "k", {"v": 1})
        current = self.client.put(self.bucket, "k", {"v": 2})
        self.assertFails(OK.FAILED_PRECONDITION, lambda: self.client.delete(self.bucket, "k", if_revision=stale))
        self.assertEqual(self.client.get(self.bucket, "k"), {"v": 2})
        self.assertTrue(self.client.delete(self.bucket, "k", if_revision=current))


class InvalidInputs(ServerTestCase):
    def setUp(self) -> None:
        self.bucket = unique("inv")

    def assertInvalid(self, fn) -> LucienError:  # type: ignore[no-untyped-def]
        err = self.assertFails(OK.INVALID_ARGUMENT, fn)
        self.assertIsInstance(err, InvalidArgument)
        self.assertTrue(err.details, "an INVALID_ARGUMENT should say what is wrong")
        return err

    def test_bad_bucket_names(self) -> None:
        for bucket in ["", "has space", "slash/bucket", "x" * 129, "ünï"]:
            with self.subTest(bucket=bucket):
                self.assertInvalid(lambda: self.client.put(bucket, "k", {"a": 1}))

    def test_reserved_buckets_refuse_user_writes(self) -> None:
        self.assertInvalid(lambda: self.client.put("_private", "k", {"a": 1}))

    def test_longest_legal_bucket_name_works(self) -> None:
        bucket = ("b" + self.bucket + "x" * 128)[:128]
        self.client.put(bucket, "k", {"a": 1})
        self.assertEqual(self.client.get(bucket, "k"), {"a": 1})

    def test_empty_key(self) -> None:
        self.assertInvalid(lambda: self.client.put(self.bucket, "", {"a": 1}))

    def test_a_lone_surrogate_fails_like_the_server_would_and_sends_nothing(self) -> None:
        cases = [
            ("key", "INVALID_KEY", lambda: self.client.put(self.bucket, "\ud800", {"a": 1})),
            ("key", "INVALID_KEY", lambda: self.client.get(self.bucket, "x\udfff")),
            ("bucket", "INVALID_BUCKET", lambda: self.client.delete("b\ud800", "k")),
            ("key", "INVALID_KEY", lambda: self.client.batch_get([(self.bucket, "\ud800")])),
        ]
        for field, code, call in cases:
            with self.subTest(field=field, code=code):
                err = self.assertInvalid(call)
                self.assertEqual(err.error_code, code)
                self.assertIn(f"{field} is not valid Unicode", err.details)
        self.assertEqual(self.client.list(self.bucket), [])

    def test_values_that_are_not_json_objects(self) -> None:
        for value in ["[1, 2]", [1, 2], "42", "\"text\"", "null", "{not json", "", '{"a": 1} trailing']:
            with self.subTest(value=value):
                self.assertInvalid(lambda: self.client.put(self.bucket, "k", value))  # type: ignore[arg-type]
        self.assertIsNone(self.client.get(self.bucket, "k"))

    def test_unencodable_values_fail_before_sending(self) -> None:
        err = self.assertInvalid(lambda: self.client.put(self.bucket, "k", {"nan": float("nan")}))
        self.assertEqual(err.error_code, "INVALID_ARGUMENT")


class Batches(ServerTestCase):
    def setUp(self) -> None:
        self.bucket = unique("batch")

    def test_batch_applies_puts_and_deletes_at_one_revision(self) -> None:
        self.client.put(self.bucket, "old", {"v": 0})
        rev = self.client.batch([
            PutOp(self.bucket, "a", {"v": 1}),
            PutOp(self.bucket, "b", '{"v": 2}', if_revision=0),
            DeleteOp(self.bucket, "old"),
        ])
        a = self.client.get_full(self.bucket, "a")
        b = self.client.get_full(self.bucket, "b")
        assert a is not None and b is not None
        self.assertEqual((a.value, a.mod_revision), ({"v": 1}, rev))
        self.assertEqual((b.value, b.mod_revision), ({"v": 2}, rev))
        self.assertIsNone(self.client.get(self.bucket, "old"))

    def test_a_failing_condition_writes_nothing(self) -> None:
        stale = self.client.put(self.bucket, "c", {"v": 1})
        self.client.put(self.bucket, "c", {"v": 2})
        self.client.put(self.bucket, "d", {"v": 1})
        self.assertFails(OK.FAILED_PRECONDITION, lambda: self.client.batch([
            PutOp(self.bucket, "a", {"v": 1}),
            DeleteOp(self.bucket, "d"),
            PutOp(self.bucket, "c", {"v": 3}, if_revision=stale),
        ]), "CONDITION_FAILED")
        self.assertIsNone(self.client.get(self.bucket, "a"))
        self.assertEqual(self.client.get(self.bucket, "c"), {"v": 2})
        self.assertEqual(self.client.get(self.bucket, "d"), {"v": 1})

    def test_an_invalid_op_writes_nothing(self) -> None:
        self.assertFails(OK.INVALID_ARGUMENT, lambda: self.client.batch([
            PutOp(self.bucket, "a", {"v": 1}),
            PutOp(self.bucket, "b", "[1]"),
        ]))
        self.assertIsNone(self.client.get(self.bucket, "a"))

    def test_batch_get_answers_in_order_with_missing_keys_as_none(self) -> None:
        other = unique("batch-other")
        self.client.put(self.bucket, "x", {"x": 1})
        rev = self.client.put(other, "y", {"y": 2})
        refs = [(self.bucket, "x"), (self.bucket, "missing"), (other, "y")]
        self.assertEqual(self.client.batch_get(refs), [{"x": 1}, None, {"y": 2}])
        full = self.client.batch_get_full(refs)
        self.assertGreaterEqual(full.revision, rev)
        self.assertEqual([(e.bucket, e.key, e.found) for e in full.entries],
                         [(self.bucket, "x", True), (self.bucket, "missing", False), (other, "y", True)])
        self.assertEqual(full.entries[2].mod_revision, rev)


class Listing(ServerTestCase):
    bucket: str
    keys: list

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.bucket = unique("list")
        cls.keys = [f"item-{i:04d}" for i in range(250)]
        for i, key in enumerate(cls.keys):
            cls.client.put(cls.bucket, key, {"i": i})
        cls.client.put(cls.bucket, "other-1", {"i": -1})

    def test_list_pages_through_all_250_keys_in_order(self) -> None:
        items = self.client.list(self.bucket, "item-")
        self.assertEqual([k for k, _ in items], self.keys)
        self.assertEqual([v["i"] for _, v in items], list(range(250)))

    def test_small_pages_and_large_pages_give_the_same_answer(self) -> None:
        self.assertEqual(self.client.list(self.bucket, "item-", page_size=7, keys_only=True), self.keys)
        self.assertEqual(self.client.list(self.bucket, "item-", page_size=1000, keys_only=True), self.keys)

    def test_whole_bucket_prefix_and_start_after(self) -> None:
        self.assertEqual(len(self.client.list(self.bucket)), 251)
        self.assertEqual(self.client.list(self.bucket, "other"), [("other-1", {"i": -1})])
        after = self.client.list(self.bucket, "item-", start_after="item-0199", keys_only=True)
        self.assertEqual(after, self.keys[200:])

    def test_limit_caps_the_total_across_pages(self) -> None:
        self.assertEqual(self.client.list(self.bucket, "item-", limit=120, page_size=50, keys_only=True), self.keys[:120])
        self.assertEqual(self.client.list(self.bucket, "item-", limit=3), [(k, {"i": i}) for i, k in enumerate(self.keys[:3])])
        self.assertEqual(self.client.list(self.bucket, "item-", limit=0), [])

    def test_iter_items_carries_revisions(self) -> None:
        first = next(self.client.iter_items(self.bucket, "item-"))
        self.assertEqual(first.key, "item-0000")
        self.assertGreater(first.mod_revision, 0)
        self.assertEqual(first.create_revision, first.mod_revision)

    def test_list_of_an_empty_bucket_is_empty(self) -> None:
        self.assertEqual(self.client.list(unique("empty")), [])


class Watching(ServerTestCase):
    def test_watch_replays_changes_from_a_start_revision(self) -> None:
        bucket = unique("watch")
        rev = self.client.put(bucket, "w1", {"n": 1})
        self.client.delete(bucket, "w1")
        watch = self.client.watch(bucket, start_revision=rev)
        timer = threading.Timer(20, watch.cancel)  # never hang the suite
        timer.start()
        try:
            events = []
            for event in watch:
                events.append(event)
                if len(events) == 2:
                    break
        finally:
            timer.cancel()
            watch.cancel()
        self.assertEqual([(e.type, e.key, e.value) for e in events], [("PUT", "w1", {"n": 1}), ("DELETE", "w1", None)])
        self.assertEqual(events[0].revision, rev)
        self.assertGreater(events[1].revision, rev)


class Errors(ServerTestCase):
    def test_errors_carry_status_message_and_lucien_code(self) -> None:
        err = self.assertFails(OK.INVALID_ARGUMENT, lambda: self.client.put("bad bucket", "k", {}))
        self.assertEqual(err.error_code, "INVALID_BUCKET")
        self.assertIn("INVALID_ARGUMENT", str(err))

    def test_an_unreachable_server_raises_unavailable(self) -> None:
        with Client("127.0.0.1:1", timeout=5) as client:
            with self.assertRaises(lucien.Unavailable) as ctx:
                client.get("b", "k")
        self.assertEqual(ctx.exception.code, OK.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
