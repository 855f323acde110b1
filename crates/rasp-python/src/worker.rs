//! Interpreter threads. The interpreter recurses as deeply as the
//! reference lets RASP programs recurse, which needs a larger stack than
//! a Python thread has (the `rasp` binary runs it on 512 MiB, see
//! `rasp_lang::with_large_stack`), and its sessions hold `Rc`s, so they
//! cannot move between the threads Python calls from. A [`Worker`] owns
//! one such state on a thread of its own and runs jobs on it in order.
//! A panic there (a bug) ends the thread; callers then get an internal
//! error, never a Python `PanicException`.

use rasp::{Error, ErrorKind};
use std::sync::mpsc::{Sender, channel};

/// The interpreter's stack, as the `rasp` binary gives it.
const STACK_BYTES: usize = 512 * 1024 * 1024;

type Job<S> = Box<dyn FnOnce(&mut S) + Send>;

fn stopped() -> Error {
    Error::new(ErrorKind::Internal, "the interpreter thread stopped (it panicked; see the message above)")
}

fn spawn(body: impl FnOnce() + Send + 'static) -> Result<std::thread::JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name("rasp interpreter".to_string())
        .stack_size(STACK_BYTES)
        .spawn(body)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot start the interpreter thread: {e}")))
}

/// A state of type `S` living on its own large-stack thread. Dropping the
/// worker ends the thread once the jobs sent so far have run.
pub struct Worker<S> {
    jobs: Sender<Job<S>>,
}

impl<S: 'static> Worker<S> {
    /// Makes the state on a new thread; fails with `make`'s error.
    pub fn start(make: impl FnOnce() -> Result<S, Error> + Send + 'static) -> Result<Worker<S>, Error> {
        let (jobs, incoming) = channel::<Job<S>>();
        let (ready, started) = channel::<Result<(), Error>>();
        spawn(move || {
            let mut state = match make() {
                Ok(state) => state,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            if ready.send(Ok(())).is_err() {
                return;
            }
            for job in incoming {
                job(&mut state);
            }
        })?;
        started.recv().map_err(|_| stopped())??;
        Ok(Worker { jobs })
    }

    /// Runs `job` on the state and waits for its result.
    pub fn call<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut S) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        let (reply, result) = channel();
        let boxed: Job<S> = Box::new(move |state| {
            let _ = reply.send(job(state));
        });
        self.jobs.send(boxed).map_err(|_| stopped())?;
        result.recv().map_err(|_| stopped())?
    }
}

/// Runs `f` once on a new large-stack thread and waits for it.
pub fn on_large_stack<R: Send + 'static>(f: impl FnOnce() -> Result<R, Error> + Send + 'static) -> Result<R, Error> {
    let (reply, result) = channel();
    let handle = spawn(move || {
        let _ = reply.send(f());
    })?;
    let outcome = result.recv().map_err(|_| stopped());
    // The thread has sent its result (or panicked); joining only reaps it.
    let _ = handle.join();
    outcome?
}
