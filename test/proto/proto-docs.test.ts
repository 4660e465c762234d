/**
 * The proto serves clients in any language out of the box: it declares the
 * usual per-language package options, and every rpc, message, field and
 * enum value carries a comment (they show in generated code and reflection).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';

const PROTO = join(__dirname, '../../proto/lucien/v1/lucien.proto');
const text = readFileSync(PROTO, 'utf8');
const root = protobuf.parse(text, { keepCase: true, alternateCommentMode: true }).root;
const pkg = root.lookup('lucien.v1') as protobuf.Namespace;

test('the proto names a package for Go, Java, C#, Ruby, PHP and Objective-C', () => {
  for (const option of ['go_package', 'java_package', 'java_multiple_files', 'csharp_namespace', 'ruby_package', 'php_namespace', 'objc_class_prefix']) {
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
        for (const name of Object.keys(child.values)) if (!child.comments[name]) missing.push(`enum value ${child.name}.${name}`);
      }
    }
  };
  visit(pkg);
  expect(missing).toEqual([]);
});
