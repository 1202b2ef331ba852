import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDockerReference, parseDockerReference, parseReference, familiarName, formatReference } from '../../src/core/ref/index.js';
import { VouchError } from '../../src/core/errors.js';

const HEX = 'a'.repeat(64);

test('docker hub short names normalise as docker does', () => {
  const cases: Array<[string, string]> = [
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['library/alpine', 'docker.io/library/alpine:latest'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['ghcr.io/acme/app:v1', 'ghcr.io/acme/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/a/b/c:tag', 'localhost:5000/a/b/c:tag'],
    ['127.0.0.1:5000/repo', '127.0.0.1:5000/repo:latest'],
    [`alpine@sha256:${HEX}`, `docker.io/library/alpine@sha256:${HEX}`],
    [`alpine:3@sha256:${HEX}`, `docker.io/library/alpine:3@sha256:${HEX}`],
    ['[::1]:5000/repo:x', '[::1]:5000/repo:x'],
    ['my-registry.example.com:443/team/app__x-y.z:1.0_rc', 'my-registry.example.com:443/team/app__x-y.z:1.0_rc'],
  ];
  for (const [input, want] of cases) assert.equal(formatDockerReference(parseDockerReference(input)), want, input);
});

test('familiar names shorten docker hub library images back', () => {
  assert.equal(familiarName(parseDockerReference('alpine')), 'alpine:latest');
  assert.equal(familiarName(parseDockerReference('ghcr.io/a/b:1')), 'ghcr.io/a/b:1');
});

test('malformed docker references are rejected with a clear error', () => {
  const bad = ['', 'Alpine', 'alpine:', 'alpine:-x', 'a b', 'alpine@sha256:abc', `alpine@md5:${HEX}`, 'ghcr.io/', '/alpine', 'alpine//x', `alpine:${'t'.repeat(129)}`, 'x\u001b[2J', 'a..b/c', 'repo@'];
  for (const input of bad) {
    assert.throws(() => parseDockerReference(input), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_REFERENCE' && e.message.includes('invalid image reference'), input);
  }
});

test('transports are parsed as containers-image spells them', () => {
  assert.deepEqual(parseReference('docker://alpine'), { transport: 'docker', ref: { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' } });
  assert.deepEqual(parseReference('oci:/tmp/layout'), { transport: 'oci', path: '/tmp/layout' });
  assert.deepEqual(parseReference('oci:/tmp/layout:v1'), { transport: 'oci', path: '/tmp/layout', tag: 'v1' });
  assert.deepEqual(parseReference(`oci:/tmp/layout@sha256:${HEX}`), { transport: 'oci', path: '/tmp/layout', digest: `sha256:${HEX}` });
  assert.deepEqual(parseReference(`oci:/tmp/layout:@sha256:${HEX}`), { transport: 'oci', path: '/tmp/layout', digest: `sha256:${HEX}` });
  assert.deepEqual(parseReference('oci-archive:img.tar:latest'), { transport: 'oci-archive', path: 'img.tar', tag: 'latest' });
  assert.deepEqual(parseReference('docker-archive:save.tar'), { transport: 'docker-archive', path: 'save.tar' });
  assert.deepEqual(parseReference('docker-archive:save.tar:test_image_1:latest'), { transport: 'docker-archive', path: 'save.tar', tag: 'test_image_1:latest' });
  assert.deepEqual(parseReference('docker-daemon:busybox:1.36'), { transport: 'docker-daemon', name: 'docker.io/library/busybox:1.36' });
  assert.deepEqual(parseReference('docker-daemon:busybox'), { transport: 'docker-daemon', name: 'docker.io/library/busybox:latest' });
  assert.deepEqual(parseReference(`docker-daemon:sha256:${HEX}`), { transport: 'docker-daemon', name: `sha256:${HEX}`, digest: `sha256:${HEX}` });
  assert.deepEqual(parseReference('alpine'), { transport: 'auto', input: 'alpine' });
  assert.deepEqual(parseReference('./some/dir'), { transport: 'auto', input: './some/dir' });
});

test('formatReference round-trips canonical forms', () => {
  for (const s of ['docker://docker.io/library/alpine:latest', 'oci:/x:y', `oci-archive:/a.tar@sha256:${HEX}`, 'docker-archive:/a.tar:b:c', 'docker-daemon:docker.io/library/x:latest']) {
    assert.equal(formatReference(parseReference(s)), s);
  }
});

test('malformed transport references are rejected', () => {
  for (const input of ['oci:', 'oci::tag', 'oci:/x:', 'oci:/x@sha256:123', 'docker-daemon:', 'docker://', 'docker://UPPER', 'docker-archive:/x:BAD REF', 'http://example.com/x', 'docker-daemon:sha256:zz']) {
    assert.throws(() => parseReference(input), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_REFERENCE', input);
  }
});
