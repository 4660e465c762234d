"""Argument mistakes raise the client's own error, per-call timeouts, and eval.

Every mistake below must raise lucien.InvalidArgument (a LucienError) before
anything is sent, never protobuf's TypeError or ValueError.
"""

from __future__ import annotations

import grpc

import lucien
from lucien import InvalidArgument, LucienError, PutOp

from .support import ServerTestCase, unique


class ArgumentMistakes(ServerTestCase):
    def test_every_argument_mistake_raises_invalid_argument(self) -> None:
        c = self.client
        mistakes = {
            "bucket is an int": lambda: c.put(1, "k", {}),  # type: ignore[arg-type]
            "key is None": lambda: c.get("b", None),  # type: ignore[arg-type]
            "if_revision is a str": lambda: c.put("b", "k", {}, if_revision="5"),  # type: ignore[arg-type]
            "if_revision is a float": lambda: c.delete("b", "k", if_revision=1.5),  # type: ignore[arg-type]
            "value is a list": lambda: c.put("b", "k", [1, 2]),  # type: ignore[arg-type]
            "value is a set": lambda: c.put("b", "k", {1, 2}),  # type: ignore[arg-type]
            "args is a plain string": lambda: c.run("s", "post_1"),
            "args is a dict": lambda: c.run("s", {"a": 1}),
            "args is an int": lambda: c.run("s", 5),
            "timeout_ms is negative": lambda: c.run("s", [], timeout_ms=-1),
            "timeout is a str": lambda: c.get("b", "k", timeout="5"),  # type: ignore[arg-type]
            "timeout is zero": lambda: c.get("b", "k", timeout=0),
            "limit is a str": lambda: c.list("b", limit="10"),  # type: ignore[arg-type]
            "refs is a str": lambda: c.batch_get("bk"),  # type: ignore[arg-type]
            "a ref is not a pair": lambda: c.batch_get([("b",)]),  # type: ignore[list-item]
            "ops is a dict": lambda: c.batch({"put": 1}),  # type: ignore[arg-type]
            "an op is a tuple": lambda: c.batch([("b", "k", {})]),  # type: ignore[list-item]
            "an op's bucket is an int": lambda: c.batch([PutOp(1, "k", {})]),  # type: ignore[arg-type]
            "script source is None": lambda: c.put_script("s", None),  # type: ignore[arg-type]
            "dry_run is a str": lambda: c.run("s", [], dry_run="yes"),  # type: ignore[arg-type]
            "watch start_revision is a str": lambda: c.watch("b", start_revision="1"),  # type: ignore[arg-type]
            "eval engine is None": lambda: c.eval("result = 1", engine=None),  # type: ignore[arg-type]
        }
        for what, call in mistakes.items():
            with self.subTest(what):
                with self.assertRaises(InvalidArgument) as ctx:
                    call()
                self.assertIsInstance(ctx.exception, LucienError)
                self.assertEqual(ctx.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
                self.assertTrue(ctx.exception.details, what)

    def test_a_plain_string_for_args_fails_with_a_message_that_shows_the_list(self) -> None:
        with self.assertRaises(InvalidArgument) as ctx:
            self.client.run("render_post", "post_1")
        self.assertIn("['post_1']", ctx.exception.details)

    def test_json_text_of_an_array_is_still_accepted_as_args(self) -> None:
        name = unique("echo")
        self.client.put_script(name, "result = args")
        self.assertEqual(self.client.run(name, '["post_1", 2]'), ["post_1", 2])
        self.assertEqual(self.client.run(name, ("a",)), ["a"])


class Timeouts(ServerTestCase):
    def test_a_per_call_timeout_ends_a_slow_call_with_deadline_exceeded(self) -> None:
        with self.assertRaises(lucien.DeadlineExceeded) as ctx:
            self.client.eval("while True:\n    pass", timeout_ms=3000, timeout=0.3)
        self.assertEqual(ctx.exception.code, grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_a_per_call_timeout_overrides_the_client_default(self) -> None:
        with lucien.Client(_target(), timeout=0.001) as hasty:
            self.assertRaises(lucien.DeadlineExceeded, lambda: hasty.eval("x = sum(range(100000))\nresult = 1"))
            self.assertEqual(hasty.list_buckets(timeout=30) is not None, True)


class Eval(ServerTestCase):
    def test_eval_is_a_dry_run_unless_commit(self) -> None:
        bucket = unique("ev")
        src = f'buckets.getBucket("{bucket}").put("k", {{"v": args[0]}})\nprint("hi")\nresult = args[0] * 2'
        dry = self.client.eval(src, [21])
        self.assertEqual((dry.result, dry.logs), (42, ["hi"]))
        self.assertEqual([(w.bucket, w.key, w.value) for w in dry.writes], [(bucket, "k", {"v": 21})])
        self.assertIsNone(self.client.get(bucket, "k"))
        self.client.eval(src, [2], commit=True)
        self.assertEqual(self.client.get(bucket, "k"), {"v": 2})

    def test_eval_errors_match_run(self) -> None:
        with self.assertRaises(lucien.ScriptError) as ctx:
            self.client.eval("x = 1\nraise ValueError('bad')")
        self.assertEqual(ctx.exception.line, 2)
        self.assertRaises(lucien.ScriptSyntaxError, lambda: self.client.eval("def (:"))
        self.assertRaises(InvalidArgument, lambda: self.client.eval("result = 1", engine="cobol"))


def _target() -> str:
    from .support import target

    return target()
