/**
 * The Python host's memory image (engines/python/memory-image.ts), through
 * the real host: a run of another script starts from the image whatever the
 * last run did, including growing wasm memory far past the image (the
 * allocator's break goes back, the memory stays usable), and compiled code
 * survives the restores. One host for the file.
 */
import type { HostProcess } from '../../src/procedures/host-process';
import { FakeBridge, resultOf, runPython, startPythonHost } from './python-harness';

let host: HostProcess;
beforeAll(async () => {
  host = await startPythonHost();
});
afterAll(() => host?.kill());

test('after a run that grew wasm memory, the next script starts from the image and can use that memory again', async () => {
  const grow =
    'import decimal\ndecimal.getcontext().prec = 3\nkeep = [bytearray(b"\\xff" * (64 * 1024 * 1024))]\ndel keep\nblob = b"\\xab" * (96 * 1024 * 1024)\nresult = len(blob)';
  const zeroes =
    'import decimal\nz = bytearray(160 * 1024 * 1024)\nresult = [z.count(0) == len(z), str(decimal.Decimal(1) / 7)]';
  for (let i = 0; i < 3; i++) {
    expect(await resultOf(host, grow)).toBe(96 * 1024 * 1024);
    expect(await resultOf(host, zeroes)).toEqual([true, '0.1428571428571428571428571429']);
  }
});

test('compiled scripts survive restores: the same cache key keeps running between other scripts', async () => {
  const key = 'kept';
  const bridge = new FakeBridge();
  const limits = { maxLogBytes: 1024, maxResultBytes: 1024 };
  const source = 'import decimal\ndecimal.getcontext().prec = 2\nresult = args[0] * 2';
  const first = await host.run({ key, name: 'kept', source, args: '[5]', limits }, bridge.onCall);
  expect(first).toMatchObject({ ok: true, result: '10' });
  for (let i = 0; i < 5; i++) {
    // The server believes the host holds it, so sends no source: the host must still have it compiled after the
    // other script's restore, and never answer `missing`.
    const again = await host.run({ key, name: 'kept', source, args: '[6]', limits }, bridge.onCall);
    expect(again).toMatchObject({ ok: true, result: '12' });
    expect(host.missingAnswers).toBe(0);
    expect(await resultOf(host, 'import decimal\nresult = decimal.getcontext().prec')).toBe(28);
  }
  const done = await runPython(host, 'result = 1');
  expect(done.ok).toBe(true);
});
