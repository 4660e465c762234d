/**
 * What the bench loads and registers: the key-value data set, the blog of
 * the seed (one post, 10 comments, 10 users: render_post reads 21 values),
 * the scripts in both languages, and the same render as a Redis Lua script.
 * render_post in Python is the seed's script, verbatim but for the post key
 * coming from args (as in clients/python/tests/test_scripts.py).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const KV_BUCKET = 'bench';
export const KV_KEYS = 1000;
/** A value of about 200 bytes, like a small document. */
export const KV_VALUE = JSON.stringify({
  title: 'Some entry',
  content: "It's really cool, and this sentence makes the value a realistic size.",
  tags: ['bench', 'lucien', 'kv'],
  views: 12345,
  author: { name: 'Bob The Guy', email: 'bob@gmail.com' },
});

export const COMMENTS_PER_POST = 10;
export const POST_KEY = 'post_1';

export function blog(): { posts: [string, object][]; comments: [string, object][]; users: [string, object][] } {
  const commentKeys = Array.from({ length: COMMENTS_PER_POST }, (_, i) => `comment_${i + 1}`);
  return {
    posts: [[POST_KEY, { title: 'Some entry', content: "It's really cool", comments: commentKeys }]],
    comments: commentKeys.map((k, i) => [
      k,
      { comment: `This is comment number ${i + 1}, an insightful one!`, user_key: `user_${i + 1}` },
    ]),
    users: commentKeys.map((_, i) => [
      `user_${i + 1}`,
      { name: `User Number ${i + 1}`, email: `user${i + 1}@gmail.com` },
    ]),
  };
}

export interface BenchScript {
  readonly name: string;
  readonly engine: 'python' | 'javascript';
  readonly source: string;
}

/** The seed's render_post and its JavaScript twin: one copy, in examples/ (dist/scripts/bench → repo root). */
const EXAMPLES = join(__dirname, '../../../examples');
const RENDER_POST_PY = readFileSync(join(EXAMPLES, 'render_post.py'), 'utf8');
const RENDER_POST_JS = readFileSync(join(EXAMPLES, 'render_post.js'), 'utf8');

const RENDER_POST_MANY_PY = `
posts = buckets.getBucket("posts")
comments = buckets.getBucket("comments")
users = buckets.getBucket("users")

post = dict(posts.get(args[0]))
comment_list = [dict(c) for c in comments.getMany(post['comments'])]
user_list = users.getMany([c['user_key'] for c in comment_list])
for comment, user in zip(comment_list, user_list):
    comment['user'] = dict(user)
post['comments'] = comment_list
result = post
`;

const RENDER_POST_MANY_JS = `
const posts = buckets.getBucket("posts");
const comments = buckets.getBucket("comments");
const users = buckets.getBucket("users");

const post = posts.get(args[0]);
const commentList = comments.getMany(post.comments);
const userList = users.getMany(commentList.map((c) => c.user_key));
commentList.forEach((c, i) => { c.user = userList[i]; });
post.comments = commentList;
result = post;
`;

const BRIDGE_PY = `
b = buckets.getBucket("${KV_BUCKET}")
for i in range(args[0]):
    b.get("k%d" % i)
result = 1
`;

const BRIDGE_JS = `
const b = buckets.getBucket("${KV_BUCKET}");
for (let i = 0; i < args[0]; i++) b.get("k" + i);
result = 1;
`;

const INCR_PY = `
counters = buckets.getBucket("counters")
v = counters.get(args[0])
n = (v["n"] if v is not None else 0) + 1
counters.put(args[0], {"n": n})
result = n
`;

const INCR_JS = `
const counters = buckets.getBucket("counters");
const v = counters.get(args[0]);
const n = (v === null ? 0 : v.n) + 1;
counters.put(args[0], { n });
result = n;
`;

export const SCRIPTS: readonly BenchScript[] = [
  { name: 'bench_trivial_py', engine: 'python', source: 'result = 1\n' },
  { name: 'bench_trivial_js', engine: 'javascript', source: 'result = 1;\n' },
  { name: 'render_post_py', engine: 'python', source: RENDER_POST_PY },
  { name: 'render_post_js', engine: 'javascript', source: RENDER_POST_JS },
  { name: 'render_post_many_py', engine: 'python', source: RENDER_POST_MANY_PY },
  { name: 'render_post_many_js', engine: 'javascript', source: RENDER_POST_MANY_JS },
  { name: 'bench_bridge_py', engine: 'python', source: BRIDGE_PY },
  { name: 'bench_bridge_js', engine: 'javascript', source: BRIDGE_JS },
  { name: 'bench_incr_py', engine: 'python', source: INCR_PY },
  { name: 'bench_incr_js', engine: 'javascript', source: INCR_JS },
];

/** The same render in Redis: one EVALSHA, reads through redis.call, JSON through cjson. */
export const RENDER_POST_LUA = `
local post = cjson.decode(redis.call('GET', 'posts:' .. ARGV[1]))
local out = {}
for i, ck in ipairs(post.comments) do
  local c = cjson.decode(redis.call('GET', 'comments:' .. ck))
  c.user = cjson.decode(redis.call('GET', 'users:' .. c.user_key))
  out[i] = c
end
post.comments = out
return cjson.encode(post)
`;

/** The blog as (bucket, key, JSON text) rows, as every loader writes it. */
export function blogRows(): [bucket: string, key: string, json: string][] {
  return Object.entries(blog()).flatMap(([bucket, rows]) =>
    rows.map(([key, value]): [string, string, string] => [bucket, key, JSON.stringify(value)]),
  );
}

/** Writes the blog and registers the bench's scripts through the lean client (bench, profiles, run-cpu). */
export async function loadBlogAndScripts(client: {
  put(bucket: string, key: string, value: string): Promise<void>;
  putScript(name: string, engine: 'python' | 'javascript', source: string): Promise<void>;
}): Promise<void> {
  for (const [bucket, key, json] of blogRows()) await client.put(bucket, key, json);
  for (const s of SCRIPTS) await client.putScript(s.name, s.engine, s.source);
}
