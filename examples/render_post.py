posts = buckets.getBucket("posts")
comments = buckets.getBucket("comments")
users = buckets.getBucket("users")

post_1 = dict(posts.get(args[0]))

result = post_1

comment_list = list()
for comment_key in post_1['comments']:
    comment = dict(comments.get(comment_key))
    user_key = comment['user_key']
    user = dict(users.get(user_key))
    comment['user'] = user
    comment_list.append(comment)

result['comments'] = comment_list
