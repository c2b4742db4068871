/**
 * Worker Deployment Versioning (docs/deployment.md, "Versioned deployments"), from the environment:
 *   WORKER_VERSIONING       `true`: the worker polls as one version of the deployment and takes
 *                           only the tasks the server routes to that version; default `false`
 *   WORKER_DEPLOYMENT_NAME  the deployment, default `vat-deduction`
 *   WORKER_BUILD_ID         this build's id; default `<package version>+<git commit>`
 * Off by default: a versioned worker gets no task until its version is made current
 * (`temporal worker deployment set-current-version`), which `npm start` and the tests do not do.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from '@temporalio/worker';
import { z } from 'zod';
import { DEFAULT_VERSIONING_BEHAVIOR } from '../workflows/versioning.js';

export const DEFAULT_DEPLOYMENT_NAME = 'vat-deduction';

export interface WorkerDeployment {
  versioning: boolean;
  deploymentName: string;
  /** Set when versioning is on. */
  buildId?: string;
  /** Where the build id came from, for the worker's start-up log line. */
  buildIdSource?: 'WORKER_BUILD_ID' | 'package version and git commit';
  /** For Worker.create: `workerDeploymentOptions` when versioning is on, nothing otherwise. */
  workerOptions: Pick<WorkerOptions, 'workerDeploymentOptions'>;
}

// The server joins them as `<name>.<build id>` (and `<name>:<build id>` in the
// TemporalWorkerDeploymentVersion search attribute): a name may hold neither separator.
const DeploymentName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, "must be letters, digits, '-' or '_' (no '.' or ':'), at most 100");
const BuildId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/, "must be letters, digits, '.', '_', '+' or '-', at most 100");

const Env = z.object({
  WORKER_VERSIONING: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  WORKER_DEPLOYMENT_NAME: DeploymentName.default(DEFAULT_DEPLOYMENT_NAME),
  WORKER_BUILD_ID: BuildId.optional(),
});

export class DeploymentConfigError extends Error {
  override name = 'DeploymentConfigError';
}

export interface BuildIdSources {
  packageVersion(): string;
  /** The checked-out commit, or undefined where there is no git (e.g. the image). */
  gitCommit(): string | undefined;
}

/** Reads the settings above; a bad value throws an error naming the variable and its value. */
export function workerDeploymentFromEnv(
  rawEnv: NodeJS.ProcessEnv = process.env,
  sources: BuildIdSources = projectBuildIdSources,
): WorkerDeployment {
  // Compose passes an unset variable through as ''.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${env[name]}: ${issue.message}`;
    });
    throw new DeploymentConfigError(`Invalid worker deployment settings: ${problems.join('; ')}`);
  }
  const { WORKER_VERSIONING, WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_BUILD_ID } = parsed.data;
  if (WORKER_VERSIONING === 'false') return { versioning: false, deploymentName, workerOptions: {} };

  let buildId = WORKER_BUILD_ID;
  let buildIdSource: WorkerDeployment['buildIdSource'] = 'WORKER_BUILD_ID';
  if (buildId === undefined) {
    const commit = sources.gitCommit();
    if (commit === undefined) {
      // The package version alone would give every build of a release the same id, and a version
      // must stand for one build: its pinned workflows replay on any of its workers.
      throw new DeploymentConfigError(
        'WORKER_VERSIONING=true needs WORKER_BUILD_ID here: there is no git commit to derive it from (set it to the image tag or the commit it was built from)',
      );
    }
    buildId = `${sources.packageVersion()}+${commit}`;
    buildIdSource = 'package version and git commit';
    const derived = BuildId.safeParse(buildId);
    if (!derived.success) {
      throw new DeploymentConfigError(
        `The build id derived from package.json and git, ${buildId}, is not a valid build id (${derived.error.issues[0]?.message}): set WORKER_BUILD_ID`,
      );
    }
  }
  return {
    versioning: true,
    deploymentName,
    buildId,
    buildIdSource,
    workerOptions: {
      workerDeploymentOptions: {
        version: { deploymentName, buildId },
        useWorkerVersioning: true,
        defaultVersioningBehavior: DEFAULT_VERSIONING_BEHAVIOR,
      },
    },
  };
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

const projectBuildIdSources: BuildIdSources = {
  packageVersion() {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  },
  gitCommit() {
    try {
      return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return undefined;
    }
  },
};
