import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as workflows from '../workflows/index.js';
import { DEFAULT_VERSIONING_BEHAVIOR, VERSIONING_BEHAVIORS } from '../workflows/versioning.js';
import {
  DEFAULT_DEPLOYMENT_NAME,
  DeploymentConfigError,
  workerDeploymentFromEnv,
  type BuildIdSources,
} from '../workers/deployment.js';

const withGit: BuildIdSources = { packageVersion: () => '1.4.0', gitCommit: () => '0123456789ab' };
const withoutGit: BuildIdSources = { packageVersion: () => '1.4.0', gitCommit: () => undefined };

describe('worker deployment settings (workers/deployment.ts)', () => {
  it('is off by default: no deployment options, so the worker polls unversioned', () => {
    for (const env of [{}, { WORKER_VERSIONING: '' }, { WORKER_VERSIONING: 'false', WORKER_BUILD_ID: 'x' }]) {
      const deployment = workerDeploymentFromEnv(env, withGit);
      assert.equal(deployment.versioning, false);
      assert.deepEqual(deployment.workerOptions, {});
      assert.equal(deployment.buildId, undefined);
    }
  });

  it('declares the deployment, the build id and AUTO_UPGRADE as the default behaviour when on', () => {
    const deployment = workerDeploymentFromEnv(
      { WORKER_VERSIONING: 'true', WORKER_DEPLOYMENT_NAME: 'vat-prod', WORKER_BUILD_ID: '2026.12.1-r7' },
      withGit,
    );
    assert.deepEqual(deployment, {
      versioning: true,
      deploymentName: 'vat-prod',
      buildId: '2026.12.1-r7',
      buildIdSource: 'WORKER_BUILD_ID',
      workerOptions: {
        workerDeploymentOptions: {
          version: { deploymentName: 'vat-prod', buildId: '2026.12.1-r7' },
          useWorkerVersioning: true,
          defaultVersioningBehavior: 'AUTO_UPGRADE',
        },
      },
    });
  });

  it('derives the build id from the package version and the git commit, the name from the default', () => {
    const deployment = workerDeploymentFromEnv({ WORKER_VERSIONING: 'true', WORKER_BUILD_ID: '' }, withGit);
    assert.equal(deployment.deploymentName, DEFAULT_DEPLOYMENT_NAME);
    assert.equal(deployment.buildId, '1.4.0+0123456789ab');
    assert.equal(deployment.buildIdSource, 'package version and git commit');
  });

  it("in this checkout: package.json's version and HEAD's commit", () => {
    const version = (
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
    const { buildId = '' } = workerDeploymentFromEnv({ WORKER_VERSIONING: 'true' });
    assert.ok(buildId.startsWith(`${version}+`), buildId);
    assert.match(buildId.slice(version.length + 1), /^[0-9a-f]{12}$/);
  });

  it('without git, versioning needs WORKER_BUILD_ID: the package version alone names many builds', () => {
    assert.throws(
      () => workerDeploymentFromEnv({ WORKER_VERSIONING: 'true' }, withoutGit),
      (error: Error) => error instanceof DeploymentConfigError && /needs WORKER_BUILD_ID/.test(error.message),
    );
    assert.equal(
      workerDeploymentFromEnv({ WORKER_VERSIONING: 'true', WORKER_BUILD_ID: 'img-41' }, withoutGit).buildId,
      'img-41',
    );
  });

  it('names every bad variable and its value', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ WORKER_VERSIONING: 'yes' }, /WORKER_VERSIONING=yes: must be true or false/],
      [
        { WORKER_VERSIONING: 'true', WORKER_DEPLOYMENT_NAME: 'vat.deduction' },
        /WORKER_DEPLOYMENT_NAME=vat\.deduction: must be/,
      ],
      [{ WORKER_VERSIONING: 'true', WORKER_DEPLOYMENT_NAME: 'vat:prod' }, /WORKER_DEPLOYMENT_NAME=vat:prod: must be/],
      [{ WORKER_VERSIONING: 'true', WORKER_BUILD_ID: '/srv/app/build' }, /WORKER_BUILD_ID=\/srv\/app\/build: must be/],
      [{ WORKER_VERSIONING: 'true', WORKER_BUILD_ID: 'a'.repeat(101) }, /WORKER_BUILD_ID=a+: must be .* at most 100/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => workerDeploymentFromEnv(env, withGit),
        (error: Error) => error instanceof DeploymentConfigError && message.test(error.message),
        JSON.stringify(env),
      );
    }
    // Both problems at once, so the operator fixes them in one go.
    assert.throws(
      () => workerDeploymentFromEnv({ WORKER_VERSIONING: 'on', WORKER_BUILD_ID: 'x y' }, withGit),
      /WORKER_VERSIONING=on: .*; WORKER_BUILD_ID=x y: /,
    );
  });
});

describe('versioning behaviour per workflow type (workflows/versioning.ts)', () => {
  const exported = Object.entries(workflows).filter(([, value]) => typeof value === 'function');

  it('every workflow type the worker registers has a behaviour', () => {
    assert.deepEqual(exported.map(([name]) => name).sort(), Object.keys(VERSIONING_BEHAVIORS).sort());
  });

  it('months follow the worker default (AUTO_UPGRADE, declaring nothing); launcher and accounting runs are PINNED', () => {
    assert.equal(DEFAULT_VERSIONING_BEHAVIOR, 'AUTO_UPGRADE');
    assert.equal(VERSIONING_BEHAVIORS.MonthlyDeductionWorkflow, DEFAULT_VERSIONING_BEHAVIOR);
    assert.equal(VERSIONING_BEHAVIORS.AutoAccountingWorkflow, 'PINNED');
    assert.equal(VERSIONING_BEHAVIORS.ScheduledDeductionLauncher, 'PINNED');
    for (const [name, fn] of exported) {
      const declared = 'workflowDefinitionOptions' in fn;
      assert.equal(declared, VERSIONING_BEHAVIORS[name as keyof typeof VERSIONING_BEHAVIORS] !== 'AUTO_UPGRADE', name);
    }
  });
});
