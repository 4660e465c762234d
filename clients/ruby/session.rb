# The seed's session from Ruby, with stubs generated from proto/lucien/v1/lucien.proto
# by Debian's ruby-grpc-tools (see the README's "Other languages"):
#
#   grpc_tools_ruby_protoc -I proto --ruby_out=OUT --grpc_out=OUT proto/lucien/v1/lucien.proto
#   ruby -I OUT clients/ruby/session.rb 127.0.0.1:50051
#
# Puts the blog data, registers render_post the seed's way (a Put into
# _scripts), runs it, and checks the answer and one error's lucien-error-code.
require 'json'
require 'lucien/v1/lucien_services_pb'

target = ARGV[0] || '127.0.0.1:50051'
stub = Lucien::V1::Lucien::Stub.new(target, :this_channel_is_insecure)

def put(stub, bucket, key, value)
  stub.put(Lucien::V1::PutRequest.new(bucket: bucket, key: key, value: JSON.generate(value))).revision
end

put(stub, 'posts', 'post_1', { title: 'Some entry', content: "It's really cool", comments: %w[comment_1 comment_2] })
put(stub, 'comments', 'comment_1', { comment: 'This is an insightful comment!', user_key: 'bob' })
put(stub, 'comments', 'comment_2', { comment: 'This is a boring comment!', user_key: 'dave' })
put(stub, 'users', 'bob', { name: 'Bob The Guy', email: 'bob@gmail.com' })
put(stub, 'users', 'dave', { name: 'David King', email: 'dave@gmail.com' })

got = JSON.parse(stub.get(Lucien::V1::GetRequest.new(bucket: 'posts', key: 'post_1')).value)
raise "get returned #{got}" unless got['title'] == 'Some entry'

source = File.read(File.join(__dir__, '..', '..', 'examples', 'render_post.py'))
put(stub, '_scripts', 'render_post', { engine: 'python', script: source })

response = stub.run(Lucien::V1::RunRequest.new(name: 'render_post', args: JSON.generate(['post_1'])))
post = JSON.parse(response.result)
names = post['comments'].map { |c| c['user']['name'] }
raise "render_post returned #{post}" unless post['title'] == 'Some entry' && names == ['Bob The Guy', 'David King']

begin
  stub.get(Lucien::V1::GetRequest.new(bucket: 'posts', key: 'missing'))
  raise 'expected NOT_FOUND'
rescue GRPC::NotFound => e
  code = e.metadata['lucien-error-code']
  raise "lucien-error-code was #{code.inspect}" unless code == 'NOT_FOUND'
end

puts JSON.generate({ rendered: post, revision: response.revision })
puts 'ruby session ok'
