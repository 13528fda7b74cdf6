//! The clients `client_credentials` serves, kept in memory for a moment. A machine token costs
//! one RS256 signature; reading its client, pool and resource servers from the store for each
//! one would cost as much again. An entry lives for [`MACHINE_CLIENT_SECS`] and is dropped at
//! once when an operation on this node changes clients, pools, resource servers or domains;
//! changes made through another node sharing the database count within that second.
use crate::error::Result;
use crate::model::{AppClient, UserPool};
use crate::service::Cognito;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long a node serves a machine client from memory.
pub const MACHINE_CLIENT_SECS: i64 = 1;

/// A client of `client_credentials` with its pool and the custom scopes it may be given (those
/// whose resource server still defines them).
#[derive(Debug)]
pub struct MachineClient {
    pub client: AppClient,
    pub pool: UserPool,
    pub active_scopes: Vec<String>,
}

/// A client as read from the store: in which generation of changes, and when.
struct Entry {
    generation: u64,
    read_ms: i64,
    client: Arc<MachineClient>,
}

#[derive(Default)]
pub(crate) struct MachineClients {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Operations that change what a machine client entry holds.
fn changes_clients(operation: &str) -> bool {
    operation.contains("UserPoolClient")
        || operation.contains("ResourceServer")
        || operation.contains("UserPoolDomain")
        || operation == "UpdateUserPool"
        || operation == "DeleteUserPool"
}

/// Called for every operation: one that changes clients, pools, resource servers or domains
/// empties the cache (the next token reads the store again).
pub(crate) fn note_operation(service: &Cognito, operation: &str) {
    if changes_clients(operation) {
        service.machine_clients.generation.fetch_add(1, Ordering::SeqCst);
    }
}

impl Cognito {
    /// The client with its pool and active custom scopes, from memory when read within the
    /// last second and nothing changed since; `None` for an unknown client.
    pub(crate) async fn machine_client(&self, client_id: &str) -> Result<Option<Arc<MachineClient>>> {
        let now = self.now_ms();
        let generation = self.machine_clients.generation.load(Ordering::SeqCst);
        if let Some(entry) = self
            .machine_clients
            .entries
            .lock()
            .expect("machine client cache poisoned")
            .get(client_id)
            && entry.generation == generation
            && now < entry.read_ms + MACHINE_CLIENT_SECS * 1000
        {
            return Ok(Some(entry.client.clone()));
        }
        let Some(client) = self.find_client(client_id).await? else {
            return Ok(None);
        };
        let Some(pool) = self.store.get_pool(&client.pool_id).await? else {
            return Ok(None);
        };
        let custom: Vec<String> = super::client_scopes(&client)
            .into_iter()
            .filter(|s| super::is_custom_scope(s))
            .collect();
        let active_scopes = self.active_scopes(&pool, custom).await?;
        let entry = Arc::new(MachineClient {
            client,
            pool,
            active_scopes,
        });
        let mut entries = self
            .machine_clients
            .entries
            .lock()
            .expect("machine client cache poisoned");
        // Bounded by the number of clients that authenticated; entries of another generation
        // are stale and go.
        entries.retain(|_, e| e.generation == generation);
        entries.insert(
            client_id.to_owned(),
            Entry {
                generation,
                read_ms: now,
                client: entry.clone(),
            },
        );
        Ok(Some(entry))
    }
}
