//! CPU-heavy work (argon2id, RSA key generation) on a fixed pool of threads, one per core.
//! A fixed pool bounds concurrency (hashing cannot starve requests) and memory: each thread
//! reuses its allocator arena for argon2's buffer, where tokio's elastic blocking pool would
//! spread those buffers over hundreds of threads and arenas (measured: 1.3 GB against ~50 MB).
use async_trait::async_trait;
use cognate_core::{Compute, Error, Result};
use cognate_crypto::password::{self, HashParams};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

pub struct BlockingCompute {
    params: HashParams,
    jobs: Mutex<mpsc::Sender<Job>>,
    /// Jobs sent and not yet started by a thread (the `cognate_password_hash_queue_depth` gauge).
    waiting: Arc<AtomicUsize>,
}

impl BlockingCompute {
    pub fn new(params: HashParams) -> Self {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("cognate-hash-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking the next job.
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking job fails its caller (the result channel drops), not the pool.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return, // every sender is gone: the service stopped
                        }
                    }
                })
                .expect("starting a hashing thread");
        }
        Self {
            params,
            jobs: Mutex::new(tx),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The number of jobs waiting for a thread, kept up to date as jobs come and go.
    pub fn queue_depth(&self) -> Arc<AtomicUsize> {
        self.waiting.clone()
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, result) = oneshot::channel();
        let waiting = self.waiting.clone();
        let job: Job = Box::new(move || {
            waiting.fetch_sub(1, Ordering::Relaxed);
            let _ = done.send(f());
        });
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let sent = self
            .jobs
            .lock()
            .map_err(|_| Error::internal("hashing pool lock poisoned"))
            .and_then(|jobs| jobs.send(job).map_err(|_| Error::internal("hashing pool stopped")));
        if let Err(e) = sent {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(e);
        }
        result.await.map_err(|_| Error::internal("hashing job dropped"))
    }
}

#[async_trait]
impl Compute for BlockingCompute {
    async fn hash_password(&self, password: String, salt: [u8; 16]) -> Result<String> {
        let params = self.params;
        self.run(move || password::hash_password(&password, &salt, params))
            .await?
            .map_err(Error::internal)
    }

    async fn verify_password(&self, password: String, phc: String) -> Result<bool> {
        self.run(move || password::verify_password(&password, &phc))
            .await?
            .map_err(Error::internal)
    }

    async fn generate_rsa_key(&self) -> Result<Vec<u8>> {
        let der = self
            .run(cognate_crypto::jwt::generate_rsa_pkcs8)
            .await?
            .map_err(Error::internal)?;
        Ok(der.to_vec())
    }
}
