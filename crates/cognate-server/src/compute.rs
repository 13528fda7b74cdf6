//! CPU-heavy work on tokio's blocking pool, bounded so hashing cannot starve requests.
use async_trait::async_trait;
use cognate_core::{Compute, Error, Result};
use cognate_crypto::password::{self, HashParams};
use std::sync::Arc;
use tokio::sync::Semaphore;

pub struct BlockingCompute {
    params: HashParams,
    permits: Arc<Semaphore>,
}

impl BlockingCompute {
    pub fn new(params: HashParams) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        tokio::task::spawn_blocking(f).await.map_err(Error::internal)
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
