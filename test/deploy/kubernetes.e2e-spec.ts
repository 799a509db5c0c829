// The Kubernetes manifests rendered by kustomize (offline) and validated against the Kubernetes API schemas in strict
// mode (kubernetes-validate, which ships them), plus the promises the README makes about them.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { startupWarnings } from '../../src/app.module';
import { ConfigError, describeFeatures, loadConfig } from '../../src/config/config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureTools } = require('../../scripts/tools.cjs') as { ensureTools(): { kustomize: string; kubernetesValidate: string } };

const OVERLAY = path.resolve(__dirname, '../../deploy/kubernetes/overlays/example');
// The oldest Kubernetes minor still supported upstream when this was written, and the newest the schemas know.
const KUBERNETES_VERSIONS = ['1.33.0', '1.37.0'];

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked field by field below
  spec?: any;
  data?: Record<string, string>;
};

describe('deploy/kubernetes (kustomize base + example overlay)', () => {
  let tools: ReturnType<typeof ensureTools>;
  let rendered: string;
  let objects: Obj[];
  const find = (kind: string, name: string) => {
    const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
    if (!found) throw new Error(`no ${kind}/${name} rendered`);
    return found;
  };

  beforeAll(
    () => {
      tools = ensureTools();
      rendered = execFileSync(tools.kustomize, ['build', OVERLAY], { encoding: 'utf8' });
      objects = yaml.loadAll(rendered) as Obj[];
    },
    20 * 60 * 1000,
  );

  it.each(KUBERNETES_VERSIONS)('validates strictly against the Kubernetes %s API schemas', (version) => {
    const result = spawnSync(tools.kubernetesValidate, ['--strict', '--no-warn', '-k', version, '-'], { input: rendered, encoding: 'utf8' });
    process.stdout.write(result.stdout);
    expect(result.stderr + result.stdout).not.toMatch(/ERROR|did not validate/);
    expect(result.status).toBe(0);
    expect(result.stdout.match(/passed for resource/g)?.length).toBe(objects.length);
  });

  it('refuses a misspelt field, so the strict validation above can fail', () => {
    const broken = rendered.replace('readOnlyRootFilesystem', 'readOnlyRootFileSystem');
    const result = spawnSync(tools.kubernetesValidate, ['--strict', '--no-warn', '-'], { input: broken, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/readOnlyRootFileSystem/);
  });

  it('renders the three roles, their Services, PDBs, the HPA, ConfigMap and namespace, and no Secret (the real one is created first)', () => {
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/herald',
        'Deployment/herald-api',
        'Deployment/herald-vk',
        'HorizontalPodAutoscaler/herald-api',
        'Namespace/herald',
        'PodDisruptionBudget/herald-api',
        'PodDisruptionBudget/herald-vk',
        'Service/herald-api',
        'Service/herald-discord',
        'StatefulSet/herald-discord',
      ].sort(),
    );
  });

  it.each([
    ['Deployment', 'herald-api', 'api'],
    ['StatefulSet', 'herald-discord', 'discord'],
    ['Deployment', 'herald-vk', 'vk'],
  ])('%s/%s runs the %s role as a hardened, probed, scraped, drained pod', (kind, name, role) => {
    const workload = find(kind, name);
    const pod = workload.spec.template;
    const [container] = pod.spec.containers;
    const env = Object.fromEntries((container.env as { name: string; value?: string }[]).map((item) => [item.name, item.value]));
    expect(env.HERALD_ROLES).toBe(role);
    expect(container.image).toBe('registry.example.com/herald:0.1.0');

    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = (container.volumeMounts as { name: string; mountPath: string }[]).find((mount) => mount.mountPath === '/tmp');
    expect(pod.spec.volumes.find((volume: { name: string }) => volume.name === tmp?.name)).toHaveProperty('emptyDir');

    expect(container.startupProbe.httpGet.path).toBe('/health/live');
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(pod.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/path': '/metrics',
      'prometheus.io/port': '3000',
    });
    expect(container.resources.requests.memory).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();

    // The grace period covers the preStop delay plus Herald's whole shutdown: the HTTP drain and the shutdown hooks
    // (SHUTDOWN_TIMEOUT_MS each), then its own deadline 1.5 s later (src/app.ts).
    const shutdownSeconds = Number(find('ConfigMap', 'herald').data!.SHUTDOWN_TIMEOUT_MS) / 1000;
    const preStop = container.lifecycle.preStop.sleep.seconds as number;
    expect(preStop).toBeGreaterThan(0);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + 2 * shutdownSeconds + 1.5);
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'herald' } }, { secretRef: { name: 'herald' } }]);
  });

  it('holds one Discord shard per StatefulSet pod: the ordinal from pod-index, the count equal to replicas', () => {
    const bot = find('StatefulSet', 'herald-discord');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML
    const env = bot.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: any }[];
    expect(env.find((item) => item.name === 'DISCORD_SHARDS')?.valueFrom).toEqual({
      fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" },
    });
    expect(Number(env.find((item) => item.name === 'DISCORD_SHARD_COUNT')?.value)).toBe(bot.spec.replicas);
    expect(bot.spec.serviceName).toBe('herald-discord');
    expect(find('Service', 'herald-discord').spec.clusterIP).toBe('None');
  });

  it('scales the API on CPU behind a PDB, and keeps a standby VK poller', () => {
    const hpa = find('HorizontalPodAutoscaler', 'herald-api');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'herald-api' });
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } },
    ]);
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(find('PodDisruptionBudget', 'herald-api').spec.selector.matchLabels).toEqual(find('Deployment', 'herald-api').spec.selector.matchLabels);
    expect(find('Service', 'herald-api').spec.selector).toEqual(find('Deployment', 'herald-api').spec.selector.matchLabels);
    expect(find('Deployment', 'herald-vk').spec.replicas).toBe(2);
  });

  describe('the example Secret (secret.example.yaml, a file to copy, not applied by the overlay)', () => {
    const file = path.join(OVERLAY, 'secret.example.yaml');
    const secret = yaml.load(readFileSync(file, 'utf8')) as Obj & { stringData: Record<string, string> };
    /** What a herald-discord pod of the example sees: the ConfigMap, the Secret, its own env (shard 0). */
    const discordEnv = (secrets: Record<string, string>) => {
      const bot = find('StatefulSet', 'herald-discord').spec.template.spec.containers[0];
      const own = Object.fromEntries((bot.env as { name: string; value?: string }[]).map(({ name, value }) => [name, value ?? '0']));
      return { ...find('ConfigMap', 'herald').data, ...secrets, ...own } as Record<string, string>;
    };

    it('validates strictly against the Kubernetes API schemas', () => {
      for (const version of KUBERNETES_VERSIONS) {
        const result = spawnSync(tools.kubernetesValidate, ['--strict', '--no-warn', '-k', version, file], { encoding: 'utf8' });
        expect(result.stderr + result.stdout).not.toMatch(/ERROR|did not validate/);
        expect(result.status).toBe(0);
      }
      expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'herald' } });
    });

    it('is refused by Herald as it stands, naming every placeholder, so an unedited copy never runs', () => {
      let problems: string[] = [];
      try {
        loadConfig(discordEnv(secret.stringData));
      } catch (error) {
        if (error instanceof ConfigError) problems = error.problems;
      }
      expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(Object.keys(secret.stringData).sort());
    });

    it('filled in, runs the bot as README Deploying says: rendering every message, with a backend token of its own, no warning', () => {
      const filled = Object.fromEntries(
        Object.keys(secret.stringData).map((key) => [
          key,
          key === 'AMQP_URL' ? 'amqp://herald:s3cret-0123456789@rabbitmq:5672' : `${key.toLowerCase()}-0123456789abcdef`,
        ]),
      );
      const config = loadConfig(discordEnv(filled));
      expect(describeFeatures(config).find((feature) => feature.name === 'message-images')).toMatchObject({ on: true });
      expect(startupWarnings(config)).toEqual([]);
    });
  });
});
