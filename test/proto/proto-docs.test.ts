/**
 * The proto serves clients in any language out of the box: it declares the
 * usual per-language package options, and every rpc, message, field and
 * enum value carries a comment (they show in generated code and reflection).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';

const PROTO = join(__dirname, '../../proto/lucien/v1/lucien.proto');
const text = readFileSync(PROTO, 'utf8');
const root = protobuf.parse(text, { keepCase: true, alternateCommentMode: true }).root;
const pkg = root.lookup('lucien.v1') as protobuf.Namespace;

test('the proto names a package for Go, Java, C#, Ruby, PHP and Objective-C', () => {
  for (const option of [
    'go_package',
    'java_package',
    'java_multiple_files',
    'csharp_namespace',
    'ruby_package',
    'php_namespace',
    'objc_class_prefix',
  ]) {
    expect(text).toMatch(new RegExp(`^option ${option} = .+;$`, 'm'));
  }
});

test('every rpc, message, field and enum value has a comment', () => {
  const missing: string[] = [];
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Service) {
        for (const method of child.methodsArray) if (!method.comment) missing.push(`rpc ${child.name}.${method.name}`);
      } else if (child instanceof protobuf.Type) {
        if (!child.comment) missing.push(`message ${child.name}`);
        for (const field of child.fieldsArray) if (!field.comment) missing.push(`field ${child.name}.${field.name}`);
        visit(child);
      } else if (child instanceof protobuf.Enum) {
        for (const name of Object.keys(child.values))
          if (!child.comments[name]) missing.push(`enum value ${child.name}.${name}`);
      }
    }
  };
  visit(pkg);
  expect(missing).toEqual([]);
});

test("protoc generates Java, C# and C++ (with gRPC) code in each language's package", () => {
  const out = mkdtempSync(join(tmpdir(), 'lucien-protoc-'));
  try {
    for (const dir of ['java', 'cs', 'cpp']) mkdirSync(join(out, dir));
    execFileSync(
      'protoc',
      [
        '-I',
        join(__dirname, '../../proto'),
        `--java_out=${join(out, 'java')}`,
        `--csharp_out=${join(out, 'cs')}`,
        `--cpp_out=${join(out, 'cpp')}`,
        `--grpc_out=${join(out, 'cpp')}`,
        `--plugin=protoc-gen-grpc=${execFileSync('sh', ['-c', 'command -v grpc_cpp_plugin'], { encoding: 'utf8' }).trim()}`,
        'lucien/v1/lucien.proto',
      ],
      { stdio: 'pipe' },
    );
    expect(existsSync(join(out, 'java/io/lucien/v1/RunRequest.java'))).toBe(true);
    expect(readFileSync(join(out, 'cs/Lucien.cs'), 'utf8')).toContain('namespace Lucien.V1');
    const stub = readFileSync(join(out, 'cpp/lucien/v1/lucien.grpc.pb.h'), 'utf8');
    expect(stub).toContain('class Lucien final');
    expect(stub).toContain('// Runs script source without registering it');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
