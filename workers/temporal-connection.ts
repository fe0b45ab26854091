// Connects to Temporal (client and worker connections) with errors that say what to fix.
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { StartupError } from '../lib/errors.js';

function unreachable(address: string, err: unknown): StartupError {
  return new StartupError(
    `Cannot reach Temporal at ${address}: ${(err as Error).message}. ` +
      'Check that the server is running and TEMPORAL_ADDRESS is right, or unset TEMPORAL_ADDRESS to start the embedded dev server.',
    { cause: err },
  );
}

export async function connectClient(address: string): Promise<Connection> {
  try {
    return await Connection.connect({ address, connectTimeout: '10s' });
  } catch (err) {
    throw unreachable(address, err);
  }
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address });
  } catch (err) {
    throw unreachable(address, err);
  }
}
