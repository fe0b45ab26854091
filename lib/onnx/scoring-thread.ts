// onnxruntime sessions that run in one scoring thread per process, for online serving. onnxruntime-node runs a
// session synchronously on the calling thread; on the serving thread that is request-handling time lost (a
// 1 000-row batch holds the event loop for milliseconds). Here the serving thread only posts the input tensors
// and takes the output tensors back. If the thread dies, the next call starts a new one and re-creates the
// session from the model bytes each session keeps.
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { Session } from './session.js';
import type { FromScoringThread, PlainTensor, ScoringRequest, ToScoringThread } from './scoring-thread-entry.js';

const BOOT = new URL('../runtime/thread-boot.mjs', import.meta.url);
const ENTRY = new URL('./scoring-thread-entry.ts', import.meta.url).href;

type Metadata = readonly ort.InferenceSession.ValueMetadata[];

/** The process's scoring thread: started on first use; calls answered by id, all failed if the thread exits. */
class ScoringThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly calls = new Map<number, { resolve: (m: FromScoringThread) => void; reject: (err: Error) => void }>();
  /** Bumped whenever a thread exits: sessions created before are gone with it. */
  generation = 0;

  call(message: ScoringRequest): Promise<FromScoringThread> {
    const worker = this.thread();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      worker.postMessage({ ...message, id } satisfies ToScoringThread);
    });
  }

  release(session: number): void {
    this.worker?.postMessage({ type: 'release', session } satisfies ToScoringThread);
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(BOOT, { workerData: { entry: ENTRY } });
    // Sessions are released by their owners; an idle scoring thread must not keep the process alive.
    worker.unref();
    worker.on('message', (m: FromScoringThread) => {
      const call = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (!call) return;
      if (m.type === 'error') call.reject(Object.assign(new Error(m.message), { name: m.name }));
      else call.resolve(m);
    });
    worker.on('error', () => {});
    worker.once('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.generation++;
      for (const [id, call] of this.calls) {
        this.calls.delete(id);
        call.reject(new Error(`The scoring thread exited (code ${code}) before answering.`));
      }
    });
    this.worker = worker;
    return worker;
  }
}

const shared = new ScoringThread();

const toPlain = (t: ort.Tensor): PlainTensor => ({ type: t.type, data: t.data as PlainTensor['data'], dims: t.dims });

class ThreadSession implements Session {
  private id: number;
  private generation: number;
  private released = false;

  readonly inputMetadata: Metadata;
  readonly outputMetadata: Metadata;

  constructor(
    private readonly bytes: Uint8Array,
    created: Created,
  ) {
    this.id = created.session;
    this.generation = shared.generation;
    this.inputMetadata = created.inputMetadata;
    this.outputMetadata = created.outputMetadata;
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    if (this.released) throw new Error('This scoring session was released.');
    if (this.generation !== shared.generation) {
      // The thread that held this session died: make it again on the current one.
      const created = await createOnThread(this.bytes);
      this.id = created.session;
      this.generation = shared.generation;
    }
    const plain: Record<string, PlainTensor> = {};
    for (const [name, t] of Object.entries(feeds)) plain[name] = toPlain(t);
    const answer = await shared.call({ type: 'run', session: this.id, feeds: plain });
    if (answer.type !== 'ran') throw new Error(`Unexpected answer ${answer.type} from the scoring thread.`);
    const out: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(answer.outputs)) out[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.generation === shared.generation) shared.release(this.id);
  }
}

type Created = Extract<FromScoringThread, { type: 'created' }>;

async function createOnThread(bytes: Uint8Array): Promise<Created> {
  // A copy: the caller keeps its bytes (the session re-creates itself from them if the thread dies).
  const answer = await shared.call({ type: 'create', bytes: bytes.slice() });
  if (answer.type !== 'created') throw new Error(`Unexpected answer ${answer.type} from the scoring thread.`);
  return answer;
}

/** A session over model bytes that runs on the scoring thread; same options as `createSession`. */
export async function createThreadSession(bytes: Uint8Array): Promise<Session> {
  return new ThreadSession(bytes, await createOnThread(bytes));
}

/** Ends the scoring thread (sessions on it are re-created on their next call, on a new one). */
export async function stopScoringThread(): Promise<void> {
  await shared.stop();
}
