//! The typed builder: user pools with Lambda triggers written as Rust closures, run by an
//! embedded Cognate.
//!
//! ```no_run
//! use cognate::events::{CreateAuthChallengeEvent, PreSignUpEvent};
//! use cognate::{App, Function, Triggers, UserPool};
//!
//! async fn create(mut ev: CreateAuthChallengeEvent) -> Result<CreateAuthChallengeEvent, String> {
//!     ev.response.challenge_metadata = Some("CAPTCHA".into());
//!     Ok(ev)
//! }
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let mut app = App::new();
//! let pool = UserPool::new(&mut app, "UserPool")
//!     .auto_verified_attributes(["email"])
//!     .lambda_triggers(Triggers {
//!         pre_sign_up: Some(Function::new(|mut ev: PreSignUpEvent| async move {
//!             ev.response.auto_confirm_user = true;
//!             Ok::<_, String>(ev)
//!         })),
//!         ..Default::default()
//!     });
//! pool.on_create_auth_challenge(Function::new(create));
//! pool.on(cognate::CREATE_AUTH_CHALLENGE, Function::new(create)); // the same, by constant
//! pool.on("defineAuthChallenge", Function::json(|ev| async move { Ok::<_, String>(ev) }));
//! let legacy = UserPool::from_existing(&mut app, "us-east-1_AbC123xyz");
//! legacy.on_pre_authentication(Function::new(|ev| async move { Ok::<_, String>(ev) }));
//!
//! let server = app.serve("127.0.0.1:0").await?;
//! println!("{} at {}", server.pool_id("UserPool").unwrap(), server.endpoint());
//! # Ok(()) }
//! ```
//!
//! A handler whose event type does not fit the trigger does not compile:
//!
//! ```compile_fail,E0308
//! use cognate::events::PreSignUpEvent;
//! use cognate::{App, Function, UserPool};
//!
//! let mut app = App::new();
//! let pool = UserPool::new(&mut app, "UserPool");
//! pool.on_create_auth_challenge(Function::new(|ev: PreSignUpEvent| async move { Ok::<_, String>(ev) }));
//! ```
//!
//! ```compile_fail,E0277
//! use cognate::events::PreSignUpEvent;
//! use cognate::{App, Function, UserPool};
//!
//! let mut app = App::new();
//! let pool = UserPool::new(&mut app, "UserPool");
//! pool.on(cognate::CREATE_AUTH_CHALLENGE, Function::new(|ev: PreSignUpEvent| async move { Ok::<_, String>(ev) }));
//! ```
//!
//! (With the fitting trigger, the same lines compile:)
//!
//! ```
//! use cognate::events::PreSignUpEvent;
//! use cognate::{App, Function, UserPool};
//!
//! let mut app = App::new();
//! let pool = UserPool::new(&mut app, "UserPool");
//! pool.on_pre_sign_up(Function::new(|ev: PreSignUpEvent| async move { Ok::<_, String>(ev) }));
//! pool.on(cognate::PRE_SIGN_UP, Function::new(|ev: PreSignUpEvent| async move { Ok::<_, String>(ev) }));
//! ```
use crate::events::*;
use anyhow::Context;
use cognate_functions::{FunctionDef, FunctionError, FunctionTarget, ProcessSpec, RemoteSpec};
use cognate_server::{PoolDeclaration, RunningServer, ServeOptions};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Display};
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

// ---------------------------------------------------------------------------------------------
// Functions

/// A trigger function whose events are `E`: a typed event of [`crate::events`], or
/// [`serde_json::Value`] for a function that takes raw JSON (and fits every trigger).
pub struct Function<E = Value> {
    target: FunctionTarget,
    _event: PhantomData<fn(E) -> E>,
}

impl<E> Clone for Function<E> {
    fn clone(&self) -> Self {
        Self {
            target: self.target.clone(),
            _event: PhantomData,
        }
    }
}

impl<E> fmt::Debug for Function<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function<{}>({:?})", std::any::type_name::<E>(), self.target)
    }
}

fn handler_error<Err: Display>(e: Err) -> FunctionError {
    FunctionError::new(std::any::type_name::<Err>(), e.to_string())
}

impl<E: TriggerEvent> Function<E> {
    /// An in-process function from an async closure (or `async fn`) that takes the trigger's
    /// event and returns it with its `response` filled in. An error fails the trigger: Cognito
    /// answers the API call with `UserLambdaValidationException:
    /// <Trigger> failed with error <error message>.`
    ///
    /// A closure that only ever returns `Ok` has to name its error type:
    /// `async move { Ok::<_, String>(ev) }`.
    pub fn new<F, Fut, Err>(handler: F) -> Self
    where
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<E, Err>> + Send + 'static,
        Err: Display,
    {
        let target = FunctionTarget::in_process(move |event: Value| {
            let call = serde_json::from_value::<E>(event).map(&handler);
            async move {
                let call = call.map_err(|e| {
                    FunctionError::new(
                        "Runtime.UnmarshalError",
                        format!("failed to read the {} event: {e}", E::TRIGGERS[0]),
                    )
                })?;
                let out = call.await.map_err(handler_error)?;
                serde_json::to_value(out).map_err(|e| FunctionError::new("Runtime.MarshalError", e.to_string()))
            }
        });
        Self {
            target,
            _event: PhantomData,
        }
    }
}

impl Function<Value> {
    /// An in-process function from an async closure over the raw event JSON; it fits every
    /// trigger. Errors are reported as with [`Function::new`].
    pub fn json<F, Fut, Err>(handler: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, Err>> + Send + 'static,
        Err: Display,
    {
        let target = FunctionTarget::in_process(move |event: Value| {
            let call = handler(event);
            async move { call.await.map_err(handler_error) }
        });
        Self::target(target)
    }

    /// Handler code run as a local process, the way Lambda runs it (Node, Python, or a
    /// `provided` runtime's `bootstrap`).
    pub fn process(spec: ProcessSpec) -> Self {
        Self::target(FunctionTarget::Process(spec))
    }

    /// A function behind the Lambda `Invoke` HTTP API (AWS Lambda, `sam local start-lambda`).
    pub fn remote(spec: RemoteSpec) -> Self {
        Self::target(FunctionTarget::Remote(spec))
    }

    /// A function run by any [`FunctionTarget`].
    pub fn target(target: FunctionTarget) -> Self {
        Self {
            target,
            _event: PhantomData,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// What a [`Function`] takes: a [`TriggerEvent`], or raw JSON ([`Value`]).
pub trait Payload: sealed::Sealed + Send + 'static {
    /// Whether a function taking this payload may handle `trigger`.
    fn fits(trigger: Trigger) -> bool;
}

impl sealed::Sealed for Value {}
impl Payload for Value {
    fn fits(_: Trigger) -> bool {
        true
    }
}

/// Makes each event type a [`Payload`] whose typed [`TriggerName`]s also take raw JSON. One
/// impl per type, not a blanket one over [`TriggerEvent`]: that trait lives in cognate-core,
/// so a blanket impl would overlap the one for [`Value`] as far as the compiler can tell.
macro_rules! event_payloads {
    ($($event:ty),+ $(,)?) => {$(
        impl sealed::Sealed for $event {}
        impl Payload for $event {
            fn fits(trigger: Trigger) -> bool {
                <$event as TriggerEvent>::TRIGGERS.contains(&trigger)
            }
        }
        impl TriggerKey<$event> for TriggerName<$event> {
            fn resolve(self) -> Result<Trigger, TriggerError> {
                Ok(self.trigger)
            }
        }
        impl TriggerKey<Value> for TriggerName<$event> {
            fn resolve(self) -> Result<Trigger, TriggerError> {
                Ok(self.trigger)
            }
        }
    )+};
}

event_payloads!(
    PreSignUpEvent,
    PostConfirmationEvent,
    PreAuthenticationEvent,
    PostAuthenticationEvent,
    DefineAuthChallengeEvent,
    CreateAuthChallengeEvent,
    VerifyAuthChallengeResponseEvent,
    PreTokenGenerationEvent,
    PreTokenGenerationV2Event,
    UserMigrationEvent,
    CustomMessageEvent,
    CustomEmailSenderEvent,
    CustomSmsSenderEvent,
);

// ---------------------------------------------------------------------------------------------
// Trigger names

/// A trigger, typed by its event: `pool.on(CREATE_AUTH_CHALLENGE, f)` only compiles when `f`
/// takes [`CreateAuthChallengeEvent`] (or raw JSON).
pub struct TriggerName<E> {
    trigger: Trigger,
    _event: PhantomData<fn(E) -> E>,
}

impl<E> TriggerName<E> {
    const fn new(trigger: Trigger) -> Self {
        Self {
            trigger,
            _event: PhantomData,
        }
    }

    /// The trigger.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }
}

impl<E> Clone for TriggerName<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for TriggerName<E> {}

impl<E> fmt::Debug for TriggerName<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TriggerName({})", self.trigger)
    }
}

/// Why a trigger could not be attached by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerError {
    /// The name is no trigger.
    Unknown(UnknownTrigger),
    /// The function's event type is not the trigger's.
    WrongEvent { trigger: Trigger, event: &'static str },
}

impl Display for TriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(e) => e.fmt(f),
            Self::WrongEvent { trigger, event } => write!(
                f,
                "a function taking {event} cannot handle the {trigger} trigger; give it a function over \
                 the {trigger} event type, or Function::json"
            ),
        }
    }
}

impl std::error::Error for TriggerError {}

/// Something that names a trigger for a `Function<E>`: a typed [`TriggerName`] constant
/// (checked at compile time), a [`Trigger`], or a name (`"preSignUp"`, `"PreSignUp"`; checked
/// when called).
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not name a trigger whose events are `{E}`",
    label = "this trigger's functions take another event type",
    note = "give the trigger a `Function` over its own event type (see `cognate::events`), or `Function::json`"
)]
pub trait TriggerKey<E> {
    /// The trigger, or why it cannot take a `Function<E>`.
    fn resolve(self) -> Result<Trigger, TriggerError>;
}

impl<E: Payload> TriggerKey<E> for Trigger {
    fn resolve(self) -> Result<Trigger, TriggerError> {
        if E::fits(self) {
            Ok(self)
        } else {
            Err(TriggerError::WrongEvent {
                trigger: self,
                event: std::any::type_name::<E>(),
            })
        }
    }
}

impl<E: Payload> TriggerKey<E> for &str {
    fn resolve(self) -> Result<Trigger, TriggerError> {
        let trigger = Trigger::from_name(self).ok_or_else(|| TriggerError::Unknown(UnknownTrigger(self.to_owned())))?;
        <Trigger as TriggerKey<E>>::resolve(trigger)
    }
}

impl<E: Payload> TriggerKey<E> for String {
    fn resolve(self) -> Result<Trigger, TriggerError> {
        <&str as TriggerKey<E>>::resolve(self.as_str())
    }
}

impl<E: Payload> TriggerKey<E> for &String {
    fn resolve(self) -> Result<Trigger, TriggerError> {
        <&str as TriggerKey<E>>::resolve(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// App and pools

struct PoolState {
    /// Name of a new pool; id or name of an existing one.
    reference: String,
    existing: bool,
    settings: Map<String, Value>,
    triggers: BTreeMap<Trigger, FunctionTarget>,
    kms_key_id: Option<String>,
}

struct AppState {
    options: ServeOptions,
    pools: Vec<PoolState>,
    served: bool,
}

/// The "stack": user pools and their trigger functions, served by [`App::serve`].
pub struct App {
    state: Arc<Mutex<AppState>>,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        let pools: Vec<&str> = state.pools.iter().map(|p| p.reference.as_str()).collect();
        f.debug_struct("App").field("pools", &pools).finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<AppState>) -> MutexGuard<'_, AppState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    /// An app served in memory (nothing is kept after the server stops), in `us-east-1`,
    /// account `123456789012`.
    pub fn new() -> Self {
        Self::with_options(ServeOptions::default())
    }

    /// An app served with these options (storage, region, account, clock, …). Functions and
    /// pools already in `options` are served too; the address given to [`App::serve`]
    /// replaces `host` and `port`.
    pub fn with_options(options: ServeOptions) -> Self {
        Self {
            state: Arc::new(Mutex::new(AppState {
                options,
                pools: Vec::new(),
                served: false,
            })),
        }
    }

    fn add_pool(&mut self, reference: &str, existing: bool) -> usize {
        let mut state = lock(&self.state);
        assert!(!state.served, "the app is already served");
        if let Some(i) = state.pools.iter().position(|p| p.reference == reference) {
            assert!(
                state.pools[i].existing == existing,
                "user pool {reference:?} is declared both as a new and as an existing pool"
            );
            return i;
        }
        state.pools.push(PoolState {
            reference: reference.to_owned(),
            existing,
            settings: Map::new(),
            triggers: BTreeMap::new(),
            kms_key_id: None,
        });
        state.pools.len() - 1
    }

    /// Starts an embedded Cognate listening on `addr` (`"127.0.0.1:0"` picks a free port) with
    /// every declared pool and function. New pools are created (or, with persistent storage,
    /// found by name and updated); existing pools get their triggers added, keeping their other
    /// settings and triggers. Returns once all of them are in place.
    pub async fn serve(self, addr: &str) -> anyhow::Result<Server> {
        let (host, port) = split_addr(addr)?;
        let mut options = lock(&self.state).options.clone();
        options.host = host;
        options.port = port;
        self.serve_with(options).await
    }

    /// Like [`App::serve`], on the host and port of the app's options.
    pub async fn start(self) -> anyhow::Result<Server> {
        let options = lock(&self.state).options.clone();
        self.serve_with(options).await
    }

    async fn serve_with(self, mut options: ServeOptions) -> anyhow::Result<Server> {
        let pools = {
            let mut state = lock(&self.state);
            anyhow::ensure!(!state.served, "the app is already served");
            state.served = true;
            std::mem::take(&mut state.pools)
        };
        let mut used_names: BTreeSet<String> = options.functions.iter().map(|f| f.name.clone()).collect();
        let mut existing = Vec::new();
        for pool in pools {
            let mut lambda_config = match pool.settings.get("LambdaConfig") {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            for (trigger, target) in pool.triggers {
                let name = unique_name(&mut used_names, &format!("{}-{}", pool.reference, trigger.name()));
                let arn = format!("arn:aws:lambda:{}:{}:function:{name}", options.region, options.account);
                options.functions.push(FunctionDef::new(name, target));
                for (key, value) in trigger.lambda_config_members(&arn) {
                    lambda_config.insert(key.into(), value);
                }
            }
            if let Some(key) = pool.kms_key_id {
                lambda_config.insert("KMSKeyID".into(), json!(key));
            }
            if pool.existing {
                existing.push((pool.reference, lambda_config));
            } else {
                let mut settings = pool.settings;
                settings.remove("LambdaConfig");
                settings.remove("PoolName");
                options.pools.push(PoolDeclaration {
                    name: pool.reference,
                    settings,
                    lambda_config,
                    existing: false,
                });
            }
        }
        let running = cognate_server::start(options).await?;
        let mut pool_ids = running.pool_ids().clone();
        for (reference, lambda_config) in existing {
            match attach_existing(&running, &reference, lambda_config).await {
                Ok(id) => {
                    pool_ids.insert(reference, id);
                }
                Err(e) => {
                    running.shutdown().await;
                    return Err(e);
                }
            }
        }
        Ok(Server { running, pool_ids })
    }
}

/// Adds triggers to an existing pool, found by id or else by name.
async fn attach_existing(
    running: &RunningServer,
    reference: &str,
    lambda_config: Map<String, Value>,
) -> anyhow::Result<String> {
    let service = running.service();
    let by_id = service
        .describe_user_pool(cognate_core::ops::pools::UserPoolRef {
            user_pool_id: reference.to_owned(),
        })
        .await
        .ok();
    let name = match &by_id {
        Some(described) => described.user_pool.name.clone(),
        None => reference.to_owned(),
    };
    let decl = PoolDeclaration {
        name: name.clone(),
        settings: Map::new(),
        lambda_config,
        existing: true,
    };
    let ids = cognate_server::declare::apply_pools(service, &[decl])
        .await
        .with_context(|| format!("attaching triggers to the existing user pool {reference:?}"))?;
    let id = ids.get(&name).cloned().unwrap_or_default();
    if by_id.is_some() && id != reference {
        anyhow::bail!(
            "cannot attach triggers to the existing user pool {reference:?}: another pool has its name {name:?}"
        );
    }
    Ok(id)
}

/// A Lambda-style function name (letters, digits, `-`, `_`), not yet used.
fn unique_name(used: &mut BTreeSet<String>, wanted: &str) -> String {
    let base: String = wanted
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}

fn split_addr(addr: &str) -> anyhow::Result<(String, u16)> {
    if let Ok(sa) = addr.parse::<SocketAddr>() {
        return Ok((sa.ip().to_string(), sa.port()));
    }
    let (host, port) = addr
        .rsplit_once(':')
        .with_context(|| format!("{addr:?} is not an address of the form HOST:PORT"))?;
    let port = port
        .parse()
        .with_context(|| format!("{addr:?} is not an address of the form HOST:PORT"))?;
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port))
}

/// A user pool of an [`App`]. Cheap to clone; all clones are the same pool.
#[derive(Clone)]
pub struct UserPool {
    state: Arc<Mutex<AppState>>,
    index: usize,
}

impl fmt::Debug for UserPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|p| {
            f.debug_struct("UserPool")
                .field("reference", &p.reference)
                .field("existing", &p.existing)
                .field("triggers", &p.triggers.keys().collect::<Vec<_>>())
                .finish_non_exhaustive()
        })
    }
}

/// The triggers of a pool, given at once to [`UserPool::lambda_triggers`].
#[derive(Debug, Clone, Default)]
pub struct Triggers {
    pub pre_sign_up: Option<Function<PreSignUpEvent>>,
    pub post_confirmation: Option<Function<PostConfirmationEvent>>,
    pub pre_authentication: Option<Function<PreAuthenticationEvent>>,
    pub post_authentication: Option<Function<PostAuthenticationEvent>>,
    pub define_auth_challenge: Option<Function<DefineAuthChallengeEvent>>,
    pub create_auth_challenge: Option<Function<CreateAuthChallengeEvent>>,
    pub verify_auth_challenge_response: Option<Function<VerifyAuthChallengeResponseEvent>>,
    /// PreTokenGeneration V1 (at most one of the three versions).
    pub pre_token_generation: Option<Function<PreTokenGenerationEvent>>,
    pub pre_token_generation_v2: Option<Function<PreTokenGenerationV2Event>>,
    pub pre_token_generation_v3: Option<Function<PreTokenGenerationV2Event>>,
    pub user_migration: Option<Function<UserMigrationEvent>>,
    pub custom_message: Option<Function<CustomMessageEvent>>,
    /// Needs `kms_key_id`.
    pub custom_email_sender: Option<Function<CustomEmailSenderEvent>>,
    /// Needs `kms_key_id`.
    pub custom_sms_sender: Option<Function<CustomSmsSenderEvent>>,
    /// The KMS key ARN the custom senders' codes are encrypted with (`LambdaConfig.KMSKeyID`).
    pub kms_key_id: Option<String>,
}

macro_rules! typed_triggers {
    ($( $(#[$doc:meta])* ($variant:ident, $method:ident, $konst:ident, $event:ty) ),+ $(,)?) => {
        $(
            $(#[$doc])*
            pub const $konst: TriggerName<$event> = TriggerName::new(Trigger::$variant);
        )+

        impl UserPool {
            $(
                $(#[$doc])*
                pub fn $method(&self, function: Function<$event>) -> &Self {
                    self.set(Trigger::$variant, function.target)
                }
            )+
        }
    };
}

typed_triggers! {
    /// PreSignUp (`LambdaConfig.PreSignUp`).
    (PreSignUp, on_pre_sign_up, PRE_SIGN_UP, PreSignUpEvent),
    /// PostConfirmation (`LambdaConfig.PostConfirmation`).
    (PostConfirmation, on_post_confirmation, POST_CONFIRMATION, PostConfirmationEvent),
    /// PreAuthentication (`LambdaConfig.PreAuthentication`).
    (PreAuthentication, on_pre_authentication, PRE_AUTHENTICATION, PreAuthenticationEvent),
    /// PostAuthentication (`LambdaConfig.PostAuthentication`).
    (PostAuthentication, on_post_authentication, POST_AUTHENTICATION, PostAuthenticationEvent),
    /// DefineAuthChallenge (`LambdaConfig.DefineAuthChallenge`).
    (DefineAuthChallenge, on_define_auth_challenge, DEFINE_AUTH_CHALLENGE, DefineAuthChallengeEvent),
    /// CreateAuthChallenge (`LambdaConfig.CreateAuthChallenge`).
    (CreateAuthChallenge, on_create_auth_challenge, CREATE_AUTH_CHALLENGE, CreateAuthChallengeEvent),
    /// VerifyAuthChallengeResponse (`LambdaConfig.VerifyAuthChallengeResponse`).
    (
        VerifyAuthChallengeResponse,
        on_verify_auth_challenge_response,
        VERIFY_AUTH_CHALLENGE_RESPONSE,
        VerifyAuthChallengeResponseEvent
    ),
    /// PreTokenGeneration V1 (`LambdaVersion` `V1_0`); replaces a V2/V3 function.
    (PreTokenGeneration, on_pre_token_generation, PRE_TOKEN_GENERATION, PreTokenGenerationEvent),
    /// PreTokenGeneration V2 (`PreTokenGenerationConfig` with `LambdaVersion` `V2_0`): ID and
    /// access token claims and scopes; replaces a V1/V3 function.
    (PreTokenGenerationV2, on_pre_token_generation_v2, PRE_TOKEN_GENERATION_V2, PreTokenGenerationV2Event),
    /// PreTokenGeneration V3 (`LambdaVersion` `V3_0`): as V2, also for machine-to-machine
    /// tokens; replaces a V1/V2 function.
    (PreTokenGenerationV3, on_pre_token_generation_v3, PRE_TOKEN_GENERATION_V3, PreTokenGenerationV2Event),
    /// UserMigration (`LambdaConfig.UserMigration`).
    (UserMigration, on_user_migration, USER_MIGRATION, UserMigrationEvent),
    /// CustomMessage (`LambdaConfig.CustomMessage`).
    (CustomMessage, on_custom_message, CUSTOM_MESSAGE, CustomMessageEvent),
}

/// CustomEmailSender; the pool also needs a KMS key ([`UserPool::kms_key`]).
pub const CUSTOM_EMAIL_SENDER: TriggerName<CustomEmailSenderEvent> = TriggerName::new(Trigger::CustomEmailSender);
/// CustomSMSSender; the pool also needs a KMS key ([`UserPool::kms_key`]).
pub const CUSTOM_SMS_SENDER: TriggerName<CustomSmsSenderEvent> = TriggerName::new(Trigger::CustomSmsSender);

impl UserPool {
    /// A new user pool named `name`, created when the app is served (or, with persistent
    /// storage, found by name and updated to this declaration). Declaring the same name
    /// twice gives the same pool.
    pub fn new(app: &mut App, name: &str) -> Self {
        let index = app.add_pool(name, false);
        Self {
            state: app.state.clone(),
            index,
        }
    }

    /// A pool that already exists in the server's storage, by id (`us-east-1_AbC123xyz`) or
    /// name. Its settings and other triggers are kept; the triggers given here are added.
    /// Serving fails when no such pool exists.
    pub fn from_existing(app: &mut App, id_or_name: &str) -> Self {
        let index = app.add_pool(id_or_name, true);
        Self {
            state: app.state.clone(),
            index,
        }
    }

    /// The name (or, for an existing pool, the id or name) the pool was declared with; the key
    /// of [`Server::pool_id`].
    pub fn name(&self) -> String {
        self.with(|p| p.reference.clone())
    }

    fn with<R>(&self, f: impl FnOnce(&mut PoolState) -> R) -> R {
        let mut state = lock(&self.state);
        assert!(
            !state.served,
            "the app is already served: declare pools and triggers before App::serve"
        );
        f(&mut state.pools[self.index])
    }

    fn set(&self, trigger: Trigger, target: FunctionTarget) -> &Self {
        self.with(|p| {
            if matches!(
                trigger,
                Trigger::PreTokenGeneration | Trigger::PreTokenGenerationV2 | Trigger::PreTokenGenerationV3
            ) {
                p.triggers.remove(&Trigger::PreTokenGeneration);
                p.triggers.remove(&Trigger::PreTokenGenerationV2);
                p.triggers.remove(&Trigger::PreTokenGenerationV3);
            }
            p.triggers.insert(trigger, target);
        });
        self
    }

    /// Sets every trigger given in `triggers`.
    pub fn lambda_triggers(self, triggers: Triggers) -> Self {
        let Triggers {
            pre_sign_up,
            post_confirmation,
            pre_authentication,
            post_authentication,
            define_auth_challenge,
            create_auth_challenge,
            verify_auth_challenge_response,
            pre_token_generation,
            pre_token_generation_v2,
            pre_token_generation_v3,
            user_migration,
            custom_message,
            custom_email_sender,
            custom_sms_sender,
            kms_key_id,
        } = triggers;
        let all = [
            (Trigger::PreSignUp, pre_sign_up.map(|f| f.target)),
            (Trigger::PostConfirmation, post_confirmation.map(|f| f.target)),
            (Trigger::PreAuthentication, pre_authentication.map(|f| f.target)),
            (Trigger::PostAuthentication, post_authentication.map(|f| f.target)),
            (Trigger::DefineAuthChallenge, define_auth_challenge.map(|f| f.target)),
            (Trigger::CreateAuthChallenge, create_auth_challenge.map(|f| f.target)),
            (
                Trigger::VerifyAuthChallengeResponse,
                verify_auth_challenge_response.map(|f| f.target),
            ),
            (Trigger::PreTokenGeneration, pre_token_generation.map(|f| f.target)),
            (Trigger::PreTokenGenerationV2, pre_token_generation_v2.map(|f| f.target)),
            (Trigger::PreTokenGenerationV3, pre_token_generation_v3.map(|f| f.target)),
            (Trigger::UserMigration, user_migration.map(|f| f.target)),
            (Trigger::CustomMessage, custom_message.map(|f| f.target)),
            (Trigger::CustomEmailSender, custom_email_sender.map(|f| f.target)),
            (Trigger::CustomSmsSender, custom_sms_sender.map(|f| f.target)),
        ];
        for (trigger, target) in all {
            if let Some(target) = target {
                self.set(trigger, target);
            }
        }
        if let Some(key) = kms_key_id {
            self.kms_key(key);
        }
        self
    }

    /// Attaches `function` to a trigger named by a typed constant ([`CREATE_AUTH_CHALLENGE`]),
    /// a [`Trigger`], or a name (`"createAuthChallenge"` or `"CreateAuthChallenge"`).
    ///
    /// # Panics
    ///
    /// When the name is no trigger, or the function's event type is not the trigger's
    /// (see [`UserPool::try_on`]).
    pub fn on<E: Payload>(&self, trigger: impl TriggerKey<E>, function: Function<E>) -> &Self {
        match self.try_on(trigger, function) {
            Ok(pool) => pool,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`UserPool::on`] that returns an error instead of panicking.
    pub fn try_on<E: Payload>(
        &self,
        trigger: impl TriggerKey<E>,
        function: Function<E>,
    ) -> Result<&Self, TriggerError> {
        let trigger = trigger.resolve()?;
        Ok(self.set(trigger, function.target))
    }

    /// CustomEmailSender, whose codes are encrypted with the KMS key `kms_key_arn`.
    pub fn on_custom_email_sender(&self, function: Function<CustomEmailSenderEvent>, kms_key_arn: &str) -> &Self {
        self.kms_key(kms_key_arn);
        self.set(Trigger::CustomEmailSender, function.target)
    }

    /// CustomSMSSender, whose codes are encrypted with the KMS key `kms_key_arn`.
    pub fn on_custom_sms_sender(&self, function: Function<CustomSmsSenderEvent>, kms_key_arn: &str) -> &Self {
        self.kms_key(kms_key_arn);
        self.set(Trigger::CustomSmsSender, function.target)
    }

    /// The KMS key ARN of the custom senders (`LambdaConfig.KMSKeyID`).
    pub fn kms_key(&self, kms_key_arn: impl Into<String>) -> &Self {
        let key = kms_key_arn.into();
        self.with(|p| p.kms_key_id = Some(key));
        self
    }

    /// Sets a CreateUserPool member (API shape), e.g. `setting("Policies", json!({..}))`.
    ///
    /// # Panics
    ///
    /// For an existing pool, whose settings are kept as they are.
    pub fn setting(self, member: &str, value: Value) -> Self {
        self.with(|p| {
            assert!(
                !p.existing,
                "user pool {:?} already exists: its settings are kept, only triggers can be added",
                p.reference
            );
            p.settings.insert(member.to_owned(), value);
        });
        self
    }

    /// `AutoVerifiedAttributes`: `email` and/or `phone_number`.
    pub fn auto_verified_attributes<S: Into<String>>(self, attributes: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = attributes.into_iter().map(Into::into).collect();
        self.setting("AutoVerifiedAttributes", json!(list))
    }

    /// `UsernameAttributes`: sign in with `email` and/or `phone_number` instead of a username.
    pub fn username_attributes<S: Into<String>>(self, attributes: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = attributes.into_iter().map(Into::into).collect();
        self.setting("UsernameAttributes", json!(list))
    }
}

// ---------------------------------------------------------------------------------------------
// The running server

/// An embedded Cognate serving an [`App`]. Dereferences to the [`RunningServer`]
/// (`endpoint()`, `addr()`, `service()`).
pub struct Server {
    running: RunningServer,
    pool_ids: BTreeMap<String, String>,
}

impl Server {
    /// The id of a pool by the name it was declared with (for [`UserPool::from_existing`],
    /// the id or name given there).
    pub fn pool_id(&self, name: &str) -> Option<&str> {
        self.pool_ids.get(name).map(String::as_str)
    }

    /// Declared names and their pool ids.
    pub fn pool_ids(&self) -> &BTreeMap<String, String> {
        &self.pool_ids
    }

    /// The server underneath.
    pub fn running(&self) -> &RunningServer {
        &self.running
    }

    /// Stops the server and its functions.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }

    /// Waits until the server stops.
    pub async fn wait(self) {
        self.running.wait().await;
    }
}

impl std::ops::Deref for Server {
    type Target = RunningServer;
    fn deref(&self) -> &RunningServer {
        &self.running
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("endpoint", &self.running.endpoint())
            .field("pool_ids", &self.pool_ids)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(split_addr("127.0.0.1:0").unwrap(), ("127.0.0.1".to_owned(), 0));
        assert_eq!(split_addr("[::1]:9339").unwrap(), ("::1".to_owned(), 9339));
        assert_eq!(split_addr("localhost:80").unwrap(), ("localhost".to_owned(), 80));
        assert!(split_addr("localhost").is_err());
    }

    #[test]
    fn function_names() {
        let mut used = BTreeSet::new();
        assert_eq!(unique_name(&mut used, "User Pool-preSignUp"), "User-Pool-preSignUp");
        assert_eq!(unique_name(&mut used, "User.Pool-preSignUp"), "User-Pool-preSignUp-2");
    }

    #[test]
    fn by_name() {
        let mut app = App::new();
        let pool = UserPool::new(&mut app, "P");
        let f = || Function::new(|ev: PreSignUpEvent| async move { Ok::<_, String>(ev) });
        assert!(pool.try_on("preSignUp", f()).is_ok());
        assert!(pool.try_on("PreSignUp", f()).is_ok());
        let wrong = pool.try_on("createAuthChallenge", f()).unwrap_err().to_string();
        assert!(
            wrong.contains("cannot handle the createAuthChallenge trigger"),
            "{wrong}"
        );
        let unknown = pool.try_on("preSignup", f()).unwrap_err().to_string();
        assert!(
            unknown.contains("\"preSignup\" is not a user pool trigger"),
            "{unknown}"
        );
        let json = || Function::json(|v| async move { Ok::<_, String>(v) });
        assert!(pool.try_on("customSMSSender", json()).is_ok());
        pool.on(PRE_TOKEN_GENERATION, json());
        pool.on(PRE_TOKEN_GENERATION_V2, json());
        assert_eq!(
            pool.with(|p| p.triggers.keys().copied().collect::<Vec<_>>()),
            [
                Trigger::PreSignUp,
                Trigger::PreTokenGenerationV2,
                Trigger::CustomSmsSender
            ]
        );
    }

    #[test]
    fn send_and_sync() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let mut app = App::new();
        let pool = UserPool::new(&mut app, "P");
        send_sync(&pool);
        send_sync(&app);
        let serving = app.serve("127.0.0.1:0");
        send(&serving);
    }

    #[test]
    #[should_panic(expected = "\"nope\" is not a user pool trigger")]
    fn on_panics_on_unknown_names() {
        let mut app = App::new();
        UserPool::new(&mut app, "P").on("nope", Function::json(|v| async move { Ok::<_, String>(v) }));
    }
}
