import { Sandbox, runSandbox } from '../../sandbox-kit/src/sandbox.server';
import { createXSandbox } from './x.sandbox';

void runSandbox(createXSandbox(Sandbox.loadCredentials()), 4100).catch((err: Error) => {
  process.stderr.write(`x-sandbox: failed to start: ${err.message}\n`);
  process.exit(1);
});
