#!/usr/bin/python3
"""The seed's example session, against a running Lucien server.

    /usr/bin/python3 examples/blog.py [127.0.0.1:50051]

Stores a post, its comments and their users; registers the seed's
render_post (render_post.py, and its JavaScript twin render_post.js) and
renders the post in one request each. Runs on Debian's python3-grpcio; no install needed.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))

from lucien import Client  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def example_script(name: str) -> str:
    """The seed's render_post (Python, verbatim but for args) and its JavaScript twin live beside this file."""
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return f.read()


def main(target: str) -> None:
    with Client(target) as client:
        # Simple put and get.
        client.put("hey", "there", {"hey": "there"})
        print(client.get("hey", "there"))

        # Basic script, registered the seed's way: a Put into _scripts.
        script = '''result = {"success": True, "answer" : 42}'''
        client.put("_scripts", "the_ultimate_method", {"engine": "python", "script": script})
        print(client.get("_scripts", "the_ultimate_method"))
        print(client.run("the_ultimate_method", []))

        # A more advanced query: a post with its comments and their users, in one request.
        client.put("posts", "post_1", {"title": "Some entry", "content": "It's really cool", "comments": ["comment_1", "comment_2"]})
        client.put("comments", "comment_1", {"comment": "This is an insightful comment!", "user_key": "bob"})
        client.put("comments", "comment_2", {"comment": "This is a boring comment!", "user_key": "dave"})
        client.put("users", "bob", {"name": "Bob The Guy", "email": "bob@gmail.com"})
        client.put("users", "dave", {"name": "David King", "email": "dave@gmail.com"})

        client.put("_scripts", "render_post", {"engine": "python", "script": example_script("render_post.py")})
        python = client.run("render_post", ["post_1"])
        client.put_script("render_post_js", example_script("render_post.js"), engine="javascript")
        javascript = client.run("render_post_js", ["post_1"])
        print(json.dumps(python, indent=2))
        print("javascript agrees:", javascript == python)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051")
