import { Sandbox, runSandbox } from '../../sandbox-kit/src/sandbox.server';
import { createFacebookSandbox } from './facebook.sandbox';

void runSandbox(createFacebookSandbox(Sandbox.loadCredentials()), 4200).catch((err: Error) => {
  process.stderr.write(`facebook-sandbox: failed to start: ${err.message}\n`);
  process.exit(1);
});
