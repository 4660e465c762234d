"""Stored procedures through the client: the seed session end to end (DESIGN.md §3, §4, §7).

These are real tests: they fail until the server's script engines work.
"""

from __future__ import annotations

import copy
import os
import unittest

import grpc

import lucien
from lucien import ScriptError

from .support import ServerTestCase, unique

OK = grpc.StatusCode

# The seed's data (its comments name their authors through user_key).
POST_1 = {"title": "Some entry", "content": "It's really cool", "comments": ["comment_1", "comment_2"]}
COMMENT_1 = {"comment": "This is an insightful comment!", "user_key": "bob"}
COMMENT_2 = {"comment": "This is a boring comment!", "user_key": "dave"}
BOB = {"name": "Bob The Guy", "email": "bob@gmail.com"}
DAVE = {"name": "David King", "email": "dave@gmail.com"}

RENDERED_POST_1 = {
    "title": "Some entry",
    "content": "It's really cool",
    "comments": [
        {"comment": "This is an insightful comment!", "user_key": "bob", "user": BOB},
        {"comment": "This is a boring comment!", "user_key": "dave", "user": DAVE},
    ],
}

# The seed's render_post (post key from args) and its JavaScript twin: one copy, in examples/.
EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples")


def _example(name: str) -> str:
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as f:
        return f.read()


RENDER_POST_PY = _example("render_post.py")
RENDER_POST_JS = _example("render_post.js")


def load_blog(client: lucien.Client) -> None:
    client.put("posts", "post_1", POST_1)
    client.put("comments", "comment_1", COMMENT_1)
    client.put("comments", "comment_2", COMMENT_2)
    client.put("users", "bob", BOB)
    client.put("users", "dave", DAVE)


class SeedSession(ServerTestCase):
    def test_the_ultimate_method_registered_through_the_scripts_bucket(self) -> None:
        script = '''result = {"success": True, "answer" : 42}'''
        v = {"engine": "python", "script": script}
        self.client.put("_scripts", "the_ultimate_method", v)
        self.assertEqual(self.client.get("_scripts", "the_ultimate_method"), v)
        self.assertEqual(self.client.run("the_ultimate_method", []), {"success": True, "answer": 42})
        registered = self.client.get_script("the_ultimate_method")
        assert registered is not None
        self.assertEqual((registered.engine, registered.source), ("python", script))

    def test_render_post_in_python_through_the_scripts_bucket(self) -> None:
        load_blog(self.client)
        self.client.put("_scripts", "render_post", {"engine": "python", "script": RENDER_POST_PY})
        self.assertEqual(self.client.run("render_post", ["post_1"]), RENDERED_POST_1)

    def test_render_post_in_python_and_javascript_give_the_same_answer(self) -> None:
        load_blog(self.client)
        py, js = unique("render_post_py"), unique("render_post_js")
        self.assertGreater(self.client.put_script(py, RENDER_POST_PY, description="seed render_post"), 0)
        self.assertGreater(self.client.put_script(js, RENDER_POST_JS, engine="javascript"), 0)
        self.assertEqual(self.client.run(py, ["post_1"]), RENDERED_POST_1)
        self.assertEqual(self.client.run(js, ["post_1"]), RENDERED_POST_1)
        # The run read the data; it must not have changed it.
        self.assertEqual(self.client.get("posts", "post_1"), POST_1)

    def test_render_post_reads_many_posts_with_args(self) -> None:
        load_blog(self.client)
        post_2 = copy.deepcopy(POST_1)
        post_2["title"], post_2["comments"] = "Another entry", ["comment_2"]
        self.client.put("posts", "post_2", post_2)
        name = unique("render_post")
        self.client.put_script(name, RENDER_POST_PY)
        rendered = self.client.run(name, ["post_2"])
        self.assertEqual(rendered["title"], "Another entry")
        self.assertEqual([c["user"] for c in rendered["comments"]], [DAVE])


class ScriptManagement(ServerTestCase):
    def test_get_list_and_delete_scripts(self) -> None:
        name = unique("managed")
        rev = self.client.put_script(name, "result = 1", description="one")
        got = self.client.get_script(name)
        assert got is not None
        self.assertEqual((got.name, got.engine, got.source, got.description, got.revision), (name, "python", "result = 1", "one", rev))
        self.assertIn(name, [s.name for s in self.client.list_scripts()])
        self.assertTrue(self.client.delete_script(name))
        self.assertIsNone(self.client.get_script(name))
        self.assertFalse(self.client.delete_script(name))
        self.assertFails(OK.NOT_FOUND, lambda: self.client.run(name, []), "NOT_FOUND")

    def test_a_syntax_error_is_invalid_argument_naming_the_line(self) -> None:
        for engine, source in [("python", "x = 1\ny = (\n"), ("javascript", "let x = 1;\nlet y = ;\n")]:
            with self.subTest(engine=engine):
                err = self.assertFails(OK.INVALID_ARGUMENT, lambda: self.client.put_script(unique("bad"), source, engine=engine))
                self.assertIsInstance(err, lucien.ScriptSyntaxError)
                self.assertRegex(err.details, r"\b2\b")

    def test_an_unknown_engine_is_invalid_argument(self) -> None:
        self.assertFails(OK.INVALID_ARGUMENT, lambda: self.client.put_script(unique("ruby"), "puts 1", engine="ruby"))


class Runs(ServerTestCase):
    def test_run_full_returns_logs_writes_and_revision(self) -> None:
        bucket = unique("runs")
        name = unique("writer")
        self.client.put_script(name, f'print("hello", args[0])\nbuckets.getBucket("{bucket}").put("k", {{"n": args[0]}})\nresult = "done"')
        res = self.client.run_full(name, [7])
        self.assertEqual(res.result, "done")
        self.assertEqual(res.logs, ["hello 7"])
        self.assertEqual([(w.bucket, w.key, w.value, w.deleted) for w in res.writes], [(bucket, "k", {"n": 7}, False)])
        self.assertGreaterEqual(res.attempts, 1)
        full = self.client.get_full(bucket, "k")
        assert full is not None
        self.assertEqual((full.value, full.mod_revision), ({"n": 7}, res.revision))

    def test_dry_run_reports_writes_and_commits_nothing(self) -> None:
        bucket = unique("dry")
        name = unique("dry_writer")
        self.client.put_script(name, f'buckets.getBucket("{bucket}").put("k", {{"n": 1}})\nresult = True', engine="python")
        res = self.client.run_full(name, [], dry_run=True)
        self.assertIs(res.result, True)
        self.assertEqual([(w.key, w.value) for w in res.writes], [("k", {"n": 1})])
        self.assertIsNone(self.client.get(bucket, "k"))

    def test_python_scripts_keep_big_integers_exact(self) -> None:
        name = unique("plus_one")
        self.client.put_script(name, "result = {'next': args[0] + 1, 'half': args[1]}")
        self.assertEqual(self.client.run(name, [2**53, 0.5]), {"next": 2**53 + 1, "half": 0.5})

    def test_any_json_value_can_be_a_result(self) -> None:
        for engine, source in [("python", "result = [1, 'two', None]"), ("javascript", "result = [1, 'two', null];")]:
            with self.subTest(engine=engine):
                name = unique("list_result")
                self.client.put_script(name, source, engine=engine)
                self.assertEqual(self.client.run(name), [1, "two", None])

    def test_a_raising_script_gives_script_error_with_its_logs(self) -> None:
        cases = [
            ("python", 'print("before")\nraise ValueError("boom")', "ValueError"),
            ("javascript", 'console.log("before");\nthrow new TypeError("boom");', "TypeError"),
        ]
        for engine, source, kind in cases:
            with self.subTest(engine=engine):
                name = unique("raiser")
                self.client.put_script(name, source, engine=engine)
                with self.assertRaises(ScriptError) as ctx:
                    self.client.run(name, [])
                err = ctx.exception
                self.assertEqual(err.error_code, "SCRIPT_ERROR")
                self.assertIn(kind, err.details)
                self.assertIn("boom", err.details)
                self.assertEqual(err.logs, ["before"])

    def test_a_failed_run_writes_nothing(self) -> None:
        bucket = unique("atomic_run")
        name = unique("half_writer")
        self.client.put_script(name, f'buckets.getBucket("{bucket}").put("k", {{"n": 1}})\nraise RuntimeError("after write")')
        self.assertRaises(ScriptError, self.client.run, name, [])
        self.assertIsNone(self.client.get(bucket, "k"))

    def test_args_must_be_a_json_array(self) -> None:
        name = unique("args")
        self.client.put_script(name, "result = args")
        self.assertEqual(self.client.run(name, '[1, "x"]'), [1, "x"])
        self.assertFails(OK.INVALID_ARGUMENT, lambda: self.client.run(name, '{"not": "an array"}'))
        self.assertFails(OK.INVALID_ARGUMENT, lambda: self.client.run(name, "[1,"))


if __name__ == "__main__":
    unittest.main()
