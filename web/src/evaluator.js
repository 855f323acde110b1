// Talks to the worker: one request at a time, each with a time limit. A
// request that runs over its limit, or a worker that fails, ends that
// worker; the next request starts a fresh one.

export class TimeLimitError extends Error {}
export class WorkerFailure extends Error {}

export class Evaluator {
  constructor(url) {
    this.url = url;
    this.worker = null;
    this.nextId = 1;
    this.pending = null;
    this.restarts = 0;
    this.queue = Promise.resolve();
  }

  start() {
    this.worker = new Worker(this.url, { type: "module" });
    this.worker.onmessage = (event) => this.settle(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new WorkerFailure(event.message || "the evaluator stopped"));
    };
  }

  stop() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.restarts += 1;
  }

  settle(data) {
    const pending = this.pending;
    if (!pending || data.id !== pending.id) return;
    clearTimeout(pending.timer);
    this.pending = null;
    if (data.failure !== undefined) {
      this.stop();
      pending.reject(new WorkerFailure(data.failure));
    } else {
      pending.resolve({ result: data.result, ms: data.ms });
    }
  }

  fail(error) {
    const pending = this.pending;
    this.stop();
    if (pending) {
      clearTimeout(pending.timer);
      this.pending = null;
      pending.reject(error);
    }
  }

  // Resolves with {result, ms}; rejects with TimeLimitError or WorkerFailure.
  // Requests wait for the ones before them; each one's time limit starts
  // when the worker gets it.
  request(kind, args, limitMs) {
    const turn = this.queue.then(() => this.send(kind, args, limitMs));
    this.queue = turn.catch(() => {});
    return turn;
  }

  send(kind, args, limitMs) {
    if (!this.worker) this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new TimeLimitError(`stopped after ${limitMs / 1000} s`));
      }, limitMs);
      this.pending = { id, resolve, reject, timer };
      this.worker.postMessage({ id, kind, args });
    });
  }
}
