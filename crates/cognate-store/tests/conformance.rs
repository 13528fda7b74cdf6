//! One conformance suite, run against every backend: SQLite (file and in-memory),
//! PostgreSQL (a fresh schema per test on 127.0.0.1:5432, or COGNATE_TEST_POSTGRES_URL), and
//! the domain test kit's in-memory store, so the fake the domain tests use behaves like these.

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
use cognate_core::model::*;
use cognate_core::store::{Store, StoreError};
use cognate_store::{PostgresStore, SqliteStore};
use serde_json::Map;
use std::collections::BTreeMap;
use std::sync::Arc;

const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A backend under test, with whatever must be cleaned up afterwards.
struct Backend {
    store: Arc<dyn Store>,
    cleanup: Option<(tokio_postgres::Client, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    async fn finish(self) {
        drop(self.store);
        if let Some((client, schema)) = self.cleanup {
            client
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .expect("drop test schema");
        }
    }
}

async fn sqlite_file() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    Backend {
        store: Arc::new(store),
        cleanup: None,
        _dir: Some(dir),
    }
}

async fn sqlite_memory() -> Backend {
    Backend {
        store: Arc::new(SqliteStore::memory().unwrap()),
        cleanup: None,
        _dir: None,
    }
}

async fn testkit_memory() -> Backend {
    Backend {
        store: Arc::new(cognate_core::testkit::MemoryStore::new()),
        cleanup: None,
        _dir: None,
    }
}

async fn postgres() -> Backend {
    let (client, schema, url) = postgres_schema().await;
    let store = PostgresStore::connect(&url).await.unwrap();
    Backend {
        store: Arc::new(store),
        cleanup: Some((client, schema)),
        _dir: None,
    }
}

/// A fresh schema on the test server: an admin connection, the schema's name, and a URL whose
/// connections use it.
async fn postgres_schema() -> (tokio_postgres::Client, String, String) {
    let url = std::env::var("COGNATE_TEST_POSTGRES_URL").unwrap_or_else(|_| PG_DEFAULT.to_owned());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is needed for these tests: {e}"));
    tokio::spawn(conn);
    let mut suffix = [0u8; 8];
    getrandom(&mut suffix);
    let schema = format!(
        "cognate_t_{}",
        suffix.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let schema_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    (client, schema, schema_url)
}

fn getrandom(buf: &mut [u8]) {
    use std::hash::{BuildHasher, Hasher};
    for chunk in buf.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

fn pool(id: &str) -> UserPool {
    UserPool {
        id: id.into(),
        name: format!("name-{id}"),
        created_ms: 1,
        modified_ms: 1,
        settings: Map::new(),
    }
}

fn user(pool: &str, username: &str, email: Option<&str>) -> User {
    let mut attributes = BTreeMap::new();
    if let Some(e) = email {
        attributes.insert("email".into(), e.into());
    }
    User {
        pool_id: pool.into(),
        username: username.into(),
        sub: format!("sub-{username}"),
        attributes,
        status: UserStatus::Confirmed,
        enabled: true,
        created_ms: 1,
        modified_ms: 1,
        password_hash: None,
        password_changed_ms: 0,
        codes: vec![],
        pending_attributes: BTreeMap::new(),
        extra: Map::new(),
        version: 0,
    }
}

async fn pools_and_clients(s: &dyn Store) {
    for i in 0..5 {
        s.insert_pool(&pool(&format!("us-east-1_p{i}"))).await.unwrap();
    }
    assert!(matches!(
        s.insert_pool(&pool("us-east-1_p0")).await,
        Err(StoreError::AlreadyExists)
    ));
    let first = s.list_pools(None, 2).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let mut seen: Vec<String> = first.items.iter().map(|p| p.id.clone()).collect();
    let mut next = first.next;
    while let Some(after) = next {
        let page = s.list_pools(Some(&after), 2).await.unwrap();
        seen.extend(page.items.iter().map(|p| p.id.clone()));
        next = page.next;
    }
    assert_eq!(seen, (0..5).map(|i| format!("us-east-1_p{i}")).collect::<Vec<_>>());

    let client = AppClient {
        pool_id: "us-east-1_p0".into(),
        client_id: "c1".into(),
        name: "web".into(),
        secret: None,
        created_ms: 1,
        modified_ms: 1,
        settings: Map::new(),
    };
    s.put_client(&client).await.unwrap();
    assert_eq!(s.get_client("c1").await.unwrap().unwrap(), client);
    assert_eq!(s.list_clients("us-east-1_p0", None, 10).await.unwrap().items.len(), 1);

    s.insert_user("u", &user("us-east-1_p0", "u", None)).await.unwrap();
    s.delete_pool("us-east-1_p0").await.unwrap();
    assert!(s.get_pool("us-east-1_p0").await.unwrap().is_none());
    assert!(
        s.get_client("c1").await.unwrap().is_none(),
        "deleting a pool deletes its clients"
    );
    assert!(
        s.get_user("us-east-1_p0", "u").await.unwrap().is_none(),
        "and its users"
    );
}

async fn users_and_concurrency(s: &dyn Store) {
    let p = "us-east-1_users";
    s.insert_pool(&pool(p)).await.unwrap();
    s.insert_user("alice", &user(p, "Alice", Some("a@example.com")))
        .await
        .unwrap();
    assert!(matches!(
        s.insert_user("alice", &user(p, "alice", None)).await,
        Err(StoreError::AlreadyExists)
    ));
    let mut a = s.get_user(p, "alice").await.unwrap().unwrap();
    assert_eq!(a.username, "Alice");
    let stale = a.clone();
    a.attributes.insert("email".into(), "alice@example.com".into());
    s.update_user("alice", &a).await.unwrap();
    assert!(
        matches!(s.update_user("alice", &stale).await, Err(StoreError::Conflict)),
        "a stale write is refused"
    );
    assert!(
        s.find_users(p, "email", "a@example.com").await.unwrap().is_empty(),
        "the old email is no longer indexed"
    );
    assert_eq!(s.find_users(p, "email", "alice@example.com").await.unwrap().len(), 1);
    assert_eq!(s.find_users(p, "sub", "sub-Alice").await.unwrap().len(), 1);
    assert_eq!(s.count_users(p).await.unwrap(), 1);
    s.delete_user(p, "alice").await.unwrap();
    assert!(s.get_user(p, "alice").await.unwrap().is_none());
}

async fn list_users_filters_and_pages(s: &dyn Store) {
    let p = "us-east-1_list";
    s.insert_pool(&pool(p)).await.unwrap();
    for (name, email) in [
        ("ann", "ann@x.com"),
        ("anna", "anna@x.com"),
        ("bob", "bob@y.com"),
        ("émile", "émile@x.com"),
        ("zoe", "zoe@x.com"),
    ] {
        s.insert_user(name, &user(p, name, Some(email))).await.unwrap();
    }
    let mut disabled = s.get_user(p, "zoe").await.unwrap().unwrap();
    disabled.enabled = false;
    s.update_user("zoe", &disabled).await.unwrap();

    let filter = |attribute, prefix, value: &str| UserFilter {
        attribute,
        prefix,
        value: value.into(),
    };
    let names = |page: cognate_core::store::Page<User>| page.items.into_iter().map(|u| u.username).collect::<Vec<_>>();
    let f = filter(SearchableAttribute::Email, true, "ann");
    assert_eq!(
        names(s.list_users(p, Some(&f), None, 10).await.unwrap()),
        ["ann", "anna"]
    );
    let f = filter(SearchableAttribute::Email, false, "bob@y.com");
    assert_eq!(names(s.list_users(p, Some(&f), None, 10).await.unwrap()), ["bob"]);
    let f = filter(SearchableAttribute::Username, true, "é");
    assert_eq!(names(s.list_users(p, Some(&f), None, 10).await.unwrap()), ["émile"]);
    let f = filter(SearchableAttribute::Status, false, "Disabled");
    assert_eq!(names(s.list_users(p, Some(&f), None, 10).await.unwrap()), ["zoe"]);
    let f = filter(SearchableAttribute::UserStatus, false, "CONFIRMED");
    assert_eq!(s.list_users(p, Some(&f), None, 10).await.unwrap().items.len(), 5);

    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.list_users(p, None, after.as_deref(), 2).await.unwrap();
        all.extend(page.items.iter().map(|u| u.username.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(
        all,
        ["ann", "anna", "bob", "zoe", "émile"],
        "pages cover every user once, in key order"
    );
}

async fn groups_and_membership(s: &dyn Store) {
    let p = "us-east-1_groups";
    s.insert_pool(&pool(p)).await.unwrap();
    let g = |name: &str, precedence| Group {
        pool_id: p.into(),
        name: name.into(),
        description: None,
        role_arn: None,
        precedence,
        created_ms: 1,
        modified_ms: 1,
    };
    s.insert_group(&g("admins", Some(1))).await.unwrap();
    s.insert_group(&g("users", None)).await.unwrap();
    assert!(matches!(
        s.insert_group(&g("admins", None)).await,
        Err(StoreError::AlreadyExists)
    ));
    s.insert_user("u1", &user(p, "u1", None)).await.unwrap();
    s.add_member(p, "admins", "u1").await.unwrap();
    s.add_member(p, "admins", "u1").await.unwrap();
    s.add_member(p, "users", "u1").await.unwrap();
    let names: Vec<String> = s
        .groups_of(p, "u1")
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["admins", "users"]);
    assert_eq!(s.members_of(p, "admins", None, 10).await.unwrap().items.len(), 1);
    s.remove_member(p, "users", "u1").await.unwrap();
    assert_eq!(s.groups_of(p, "u1").await.unwrap().len(), 1);
    s.delete_group(p, "admins").await.unwrap();
    assert!(
        s.groups_of(p, "u1").await.unwrap().is_empty(),
        "deleting a group removes its memberships"
    );
    assert_eq!(s.list_groups(p, None, 10).await.unwrap().items.len(), 1);
}

async fn sessions_challenges_secrets_messages(s: &dyn Store) {
    let p = "us-east-1_misc";
    let session = |id: &str, user: &str| TokenSession {
        id: id.into(),
        pool_id: p.into(),
        username: user.into(),
        client_id: "c".into(),
        refresh_digest: format!("digest-{id}"),
        auth_time: 1,
        created_ms: 1,
        expires_ms: i64::MAX,
        revoked: false,
        scopes: None,
        rotated_ms: None,
        device_key: None,
    };
    s.put_token_session(&session("s1", "amy")).await.unwrap();
    s.put_token_session(&session("s2", "amy")).await.unwrap();
    s.put_token_session(&session("s3", "ben")).await.unwrap();
    assert_eq!(s.find_token_session(p, "digest-s1").await.unwrap().unwrap().id, "s1");
    assert_eq!(s.revoke_user_sessions(p, "amy").await.unwrap(), 2);
    assert!(s.get_token_session("s1").await.unwrap().unwrap().revoked);
    assert!(!s.get_token_session("s3").await.unwrap().unwrap().revoked);
    assert_eq!(s.revoke_user_sessions(p, "amy").await.unwrap(), 0, "already revoked");

    let challenge = ChallengeSession {
        id: "ch".into(),
        pool_id: p.into(),
        client_id: "c".into(),
        username: "amy".into(),
        challenge: "NEW_PASSWORD_REQUIRED".into(),
        expires_ms: i64::MAX / 2,
        data: Map::new(),
    };
    s.put_challenge(&challenge).await.unwrap();
    assert_eq!(s.take_challenge("ch").await.unwrap().unwrap(), challenge);
    assert!(
        s.take_challenge("ch").await.unwrap().is_none(),
        "a challenge is answered once"
    );

    assert_eq!(s.put_secret_if_absent("scope", "k", b"first").await.unwrap(), b"first");
    assert_eq!(s.put_secret_if_absent("scope", "k", b"second").await.unwrap(), b"first");
    s.put_secret("scope", "j", b"other").await.unwrap();
    let listed = s.list_secrets("scope").await.unwrap();
    assert_eq!(
        listed,
        vec![("j".to_owned(), b"other".to_vec()), ("k".to_owned(), b"first".to_vec())]
    );
    assert!(s.delete_secret("scope", "j").await.unwrap());
    assert!(!s.delete_secret("scope", "j").await.unwrap());

    for (to, body) in [("a@x.com", "1"), ("b@x.com", "2"), ("a@x.com", "3")] {
        let m = OutboxMessage {
            pool_id: p.into(),
            channel: "email".into(),
            to: to.into(),
            subject: None,
            body: body.into(),
            trigger_source: "CustomMessage_SignUp".into(),
            username: "amy".into(),
            created_ms: 1,
            code: Some(format!("00000{body}")),
        };
        s.push_message(&m).await.unwrap();
    }
    let bodies = |v: Vec<OutboxMessage>| v.into_iter().map(|m| m.body).collect::<Vec<_>>();
    assert_eq!(bodies(s.list_messages(None).await.unwrap()), ["1", "2", "3"]);
    assert_eq!(bodies(s.list_messages(Some("a@x.com")).await.unwrap()), ["1", "3"]);
    let last = s.list_messages(Some("a@x.com")).await.unwrap().pop().unwrap();
    assert_eq!(
        last.code.as_deref(),
        Some("000003"),
        "the code is kept with the message"
    );
}

fn passkey(pool: &str, id: &str, sub: &str, created_ms: i64) -> Passkey {
    Passkey {
        pool_id: pool.into(),
        credential_id: id.into(),
        user_sub: sub.into(),
        relying_party_id: "auth.example.com".into(),
        friendly_name: format!("passkey {id}"),
        authenticator_attachment: Some("platform".into()),
        transports: vec!["internal".into()],
        created_ms,
        sign_count: 0,
        credential: "{}".into(),
    }
}

async fn passkeys(s: &dyn Store) {
    let (p, q) = ("us-east-1_k", "us-east-1_l");
    s.insert_pool(&pool(p)).await.unwrap();
    s.insert_pool(&pool(q)).await.unwrap();
    s.insert_user("ann", &user(p, "ann", None)).await.unwrap();
    s.insert_user("bob", &user(p, "bob", None)).await.unwrap();
    s.insert_passkey(&passkey(p, "cred-b", "sub-ann", 20)).await.unwrap();
    s.insert_passkey(&passkey(p, "cred-a", "sub-ann", 10)).await.unwrap();
    s.insert_passkey(&passkey(p, "cred-c", "sub-bob", 10)).await.unwrap();
    // A credential id is unique in its pool, whoever registers it; another pool may hold it.
    assert!(matches!(
        s.insert_passkey(&passkey(p, "cred-a", "sub-bob", 30)).await,
        Err(StoreError::AlreadyExists)
    ));
    s.insert_passkey(&passkey(q, "cred-a", "sub-ann", 10)).await.unwrap();

    let ids = |v: Vec<Passkey>| v.into_iter().map(|k| k.credential_id).collect::<Vec<_>>();
    assert_eq!(ids(s.passkeys_of(p, "sub-ann").await.unwrap()), ["cred-a", "cred-b"]);
    assert_eq!(ids(s.passkeys_of(p, "sub-bob").await.unwrap()), ["cred-c"]);
    let got = s.get_passkey(p, "cred-a").await.unwrap().unwrap();
    assert_eq!(got, passkey(p, "cred-a", "sub-ann", 10));

    // The counter moves only from the value the writer saw.
    let mut next = got.clone();
    next.sign_count = 5;
    next.credential = "{\"counter\":5}".into();
    s.update_passkey(&next, 0).await.unwrap();
    let mut stale = got.clone();
    stale.sign_count = 4;
    assert!(matches!(s.update_passkey(&stale, 0).await, Err(StoreError::Conflict)));
    assert_eq!(s.get_passkey(p, "cred-a").await.unwrap().unwrap(), next);
    assert!(matches!(
        s.update_passkey(&passkey(p, "gone", "sub-ann", 1), 0).await,
        Err(StoreError::Conflict)
    ));

    assert!(s.delete_passkey(p, "cred-b").await.unwrap());
    assert!(!s.delete_passkey(p, "cred-b").await.unwrap());
    // Deleting the user deletes its passkeys, and only its own.
    s.delete_user(p, "ann").await.unwrap();
    assert!(s.passkeys_of(p, "sub-ann").await.unwrap().is_empty());
    assert!(s.get_passkey(p, "cred-a").await.unwrap().is_none());
    assert_eq!(ids(s.passkeys_of(p, "sub-bob").await.unwrap()), ["cred-c"]);
    // Deleting the pool deletes the rest.
    s.delete_pool(p).await.unwrap();
    assert!(s.get_passkey(p, "cred-c").await.unwrap().is_none());
    assert_eq!(ids(s.passkeys_of(q, "sub-ann").await.unwrap()), ["cred-a"]);
}

macro_rules! conformance {
    ($($backend:ident),*) => {
        $(
            mod $backend {
                #[tokio::test]
                async fn pools_and_clients() {
                    let b = super::$backend().await;
                    super::pools_and_clients(b.store.as_ref()).await;
                    b.finish().await;
                }
                #[tokio::test]
                async fn users_and_concurrency() {
                    let b = super::$backend().await;
                    super::users_and_concurrency(b.store.as_ref()).await;
                    b.finish().await;
                }
                #[tokio::test]
                async fn list_users_filters_and_pages() {
                    let b = super::$backend().await;
                    super::list_users_filters_and_pages(b.store.as_ref()).await;
                    b.finish().await;
                }
                #[tokio::test]
                async fn groups_and_membership() {
                    let b = super::$backend().await;
                    super::groups_and_membership(b.store.as_ref()).await;
                    b.finish().await;
                }
                #[tokio::test]
                async fn passkeys() {
                    let b = super::$backend().await;
                    super::passkeys(b.store.as_ref()).await;
                    b.finish().await;
                }
                #[tokio::test]
                async fn sessions_challenges_secrets_messages() {
                    let b = super::$backend().await;
                    super::sessions_challenges_secrets_messages(b.store.as_ref()).await;
                    b.finish().await;
                }
            }
        )*
    };
}

conformance!(sqlite_file, sqlite_memory, testkit_memory, postgres);

/// A database migrated by a newer Cognate (a schema version above the migrations this build
/// knows) is refused, not used.
#[tokio::test]
async fn sqlite_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let known: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {}", known + 1))
        .unwrap();
    match SqliteStore::open(&path) {
        Err(StoreError::NewerSchema { found, known: k }) => assert_eq!((found, k), (known + 1, known)),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[tokio::test]
async fn postgres_refuses_a_newer_schema() {
    let (admin, schema, url) = postgres_schema().await;
    drop(PostgresStore::connect(&url).await.unwrap());
    let known: i32 = admin
        .query_one(&format!("SELECT version FROM {schema}.cognate_schema"), &[])
        .await
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!("UPDATE {schema}.cognate_schema SET version = {}", known + 1))
        .await
        .unwrap();
    let refused = PostgresStore::connect(&url).await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    match refused {
        Err(e @ StoreError::NewerSchema { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&format!("version {}", known + 1)), "{text}");
            assert!(text.contains("newer Cognate"), "{text}");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

/// The declarations lock: on PostgreSQL a second holder waits (seen waiting in `pg_locks`)
/// until the first lets go; the lock goes with its connection. SQLite and the test kit's
/// store, used by one process, hold nothing.
#[tokio::test]
async fn declarations_lock() {
    for b in [sqlite_file().await, sqlite_memory().await, testkit_memory().await] {
        let lock = b.store.lock_declarations().await.unwrap();
        assert!(!lock.is_shared());
        drop(lock);
        b.finish().await;
    }
    let (admin, schema, url) = postgres_schema().await;
    let first = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let second = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let held = first.lock_declarations().await.unwrap();
    assert!(held.is_shared());
    let waiting = tokio::spawn({
        let second = second.clone();
        async move { second.lock_declarations().await.unwrap() }
    });
    // Rendezvous: the second node's session is queued behind the first's lock.
    let mut seen_waiting = false;
    for _ in 0..600 {
        let n: i64 = admin
            .query_one(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                 AND (classid::bigint << 32 | objid::bigint) = 7370836618 AND objsubid = 1 \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if n > 0 {
            seen_waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen_waiting, "the second lock never queued behind the first");
    assert!(
        !waiting.is_finished(),
        "the second lock was granted while the first was held"
    );
    drop(held);
    let second_lock = waiting.await.unwrap();
    assert!(second_lock.is_shared());
    drop(second_lock);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
