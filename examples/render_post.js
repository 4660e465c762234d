const posts = buckets.getBucket('posts');
const comments = buckets.getBucket('comments');
const users = buckets.getBucket('users');

const post = posts.get(args[0]);
post.comments = post.comments.map((commentKey) => {
  const comment = comments.get(commentKey);
  comment.user = users.get(comment.user_key);
  return comment;
});
result = post;
