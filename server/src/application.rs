//! Building and running k8x: one process, four jobs (ingest, bus, dispatcher, executor) and the UI.
//!
//! [`Application::build`] connects the store, picks the bus and executor from the config, binds the listener
//! (port 0 in tests) and serves from then on — the pages show what is stored while the start-up project is
//! synced, and events are taken and wait on the bus — then loads the project and only then starts the
//! dispatcher (no event is matched against half a catalog), the queue and the outbox relay.
//! [`Application::run_until_stopped`] runs until the shutdown token is cancelled; then it stops taking
//! events, gives running local executions `shutdown_grace` to finish (then kills them: they end interrupted),
//! and relays the last completion events before it returns.

use std::{net::SocketAddr, num::NonZeroU32, path::Path, sync::Arc};

use anyhow::Context as _;
use axum::Router;
use backend::{
    auth::{rate::TokenRate, session_store::DbSessionStore},
    bus::{Bus, EmbeddedBus, KafkaBus},
    config::{Config, ExecutorKind},
    dispatcher::{Dispatcher, Readiness},
    executor::{kubernetes::Settings, Executor, KubernetesExecutor, LocalExecutor},
    projects::Projects,
    state::Shared,
    store::Store,
    AppState,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tower_sessions::{
    cookie::{time::Duration, SameSite},
    Expiry, SessionManagerLayer,
};

/// A built k8x, serving.
pub struct Application {
    address: SocketAddr,
    /// The HTTP server, serving until shutdown.
    server: JoinHandle<std::io::Result<()>>,
    /// Shared state, for tests that want to look inside.
    state: AppState,
    /// Stops everything.
    shutdown: CancellationToken,
    dispatcher: JoinHandle<()>,
    executor: Runner,
    /// Kills the local executor's processes once the grace period has run out.
    kill: CancellationToken,
    /// Stops the outbox relay, last.
    relay_stop: CancellationToken,
    relay: JoinHandle<()>,
    queue: JoinHandle<()>,
}

/// The executor chosen by the config, kept concrete so that a stop can wait for it.
#[derive(Clone)]
enum Runner {
    Local(LocalExecutor),
    Kubernetes(KubernetesExecutor),
}

impl Runner {
    fn shared(&self) -> Arc<dyn Executor> {
        match self {
            Self::Local(local) => Arc::new(local.clone()),
            Self::Kubernetes(kubernetes) => Arc::new(kubernetes.clone()),
        }
    }

    async fn wait(&self) {
        match self {
            Self::Local(local) => local.wait().await,
            Self::Kubernetes(kubernetes) => kubernetes.wait().await,
        }
    }
}

impl Application {
    /// Wires everything up, binds `config.listen` and serves from then on, loads the start-up project, then
    /// starts the dispatcher.
    pub async fn build(config: Config, shutdown: CancellationToken) -> anyhow::Result<Self> {
        private_data_dir(&config.data_dir)?;
        let instance = instance_id(&config.data_dir)?;
        let store = Store::connect(&config.database_url()).await.context("opening the database")?;
        let cipher = backend::secrets::unlock(&config, &store).await?;
        let store = store.with_cipher(cipher);
        backend::auth::bootstrap::bootstrap(&config, &store).await.context("setting up the first admin")?;
        let bus: Arc<dyn Bus> = match &config.kafka_brokers {
            Some(brokers) => {
                let kafka = KafkaBus::connect(
                    brokers,
                    &config.kafka_topic,
                    config.kafka_dead_letter_topic.as_deref(),
                    config.kafka_partitions,
                )
                .await
                .context("connecting to Kafka")?;
                // Consumers name their k8x (its data directory), so that a process on a database of its own
                // can see whether it would share the group with other k8x processes.
                let kafka = kafka.identified_as(format!("k8x-{instance}"));
                if config.database_url.is_none() {
                    refuse_a_private_database_in_a_shared_group(&kafka).await?;
                }
                Arc::new(kafka)
            }
            None => Arc::new(EmbeddedBus::new(&store).owned_by(&instance)),
        };
        // Local executions whose process is gone (their lease ran out: this k8x, or another on this database,
        // stopped without ending them) are over: interrupted, and retried per their service's policy.
        // (Kubernetes executions go on in the cluster and are adopted.)
        let interrupted = store.interrupt_abandoned("the k8x process running it stopped", Some(&instance)).await?;
        if interrupted > 0 {
            tracing::warn!(interrupted, "ended executions whose k8x process is gone as interrupted");
        }
        let kill = CancellationToken::new();
        let executor = match config.executor {
            // Local processes may not read k8x's data directory (database, secret key) or config file, nor
            // k8x's own memory and environment.
            ExecutorKind::Local => Runner::Local({
                backend::executor::local::isolation::protect_self();
                let local = LocalExecutor::new(store.clone(), config.data_dir.join("work"), kill.clone())
                    .owned_by(&instance)
                    .hiding([config.data_dir.clone(), Config::file()])
                    .keeping_log_lines(config.log_max_lines);
                match config.local_max_running {
                    Some(max) => local.running_at_most(max),
                    None => local,
                }
            }),
            ExecutorKind::Kubernetes => {
                let client = KubernetesExecutor::client(&config.kube).await?;
                let settings = Settings { log_max_lines: config.log_max_lines, ..Settings::from(&config.kube) };
                let relaunch = Arc::new(backend::dispatcher::StoredLaunches { store: store.clone() });
                let executor = KubernetesExecutor::start(client, settings, store.clone(), relaunch, shutdown.clone());
                Runner::Kubernetes(executor.await?)
            }
        };
        // A run of this k8x killed mid-sync left its claim on the project: let go of it, or the start-up sync
        // below would wait out its lease.
        let released = store.release_abandoned_syncs(&instance).await?;
        if released > 0 {
            tracing::warn!(released, "released project sync claims this k8x held when it stopped mid-sync");
        }
        let projects = Projects::new(store.clone(), config.data_dir.clone(), instance.clone());
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let address = listener.local_addr()?;
        let per_second = NonZeroU32::new(config.token_requests_per_second)
            .context("token_requests_per_second must be at least 1")?;
        let project_dir = config.project_dir.clone();
        let state = AppState::new(Shared {
            token_rate: Arc::new(TokenRate::new(per_second)),
            login_throttle: Arc::default(),
            readiness: Readiness::starting(),
            config: Arc::new(config),
            store: store.clone(),
            bus: bus.clone(),
            executor: executor.shared(),
            projects: projects.clone(),
            shutdown: shutdown.clone(),
        });
        // Serving starts before the start-up project is synced (that takes a while): a k8x that fails to come up
        // after this stops serving again.
        let serving = shutdown.child_token();
        let stop_serving = serving.clone().drop_guard();
        let server = tokio::spawn(serve(listener, router(&state, address), serving));
        if let Some(dir) = &project_dir {
            load(&projects, dir).await?;
        }
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(backend::relay::run(store.clone(), bus.clone(), relay_stop.clone()));
        let queue = tokio::spawn(backend::dispatcher::queue::run(store.clone(), executor.shared(), shutdown.clone()));
        let dispatcher = Dispatcher::new(store, bus, executor.shared())
            .reporting_to(state.readiness.clone())
            .limiting_chains_to(state.config.max_chain_executions);
        let dispatcher = tokio::spawn(dispatcher.run(shutdown.clone()));
        state.readiness.started();
        tokio::spawn(sweep_sessions(DbSessionStore::new(state.store.clone()), shutdown.clone()));
        tokio::spawn(backend::projects::interval::run(projects, shutdown.clone()));
        tokio::spawn(backend::dispatcher::ticker::run(state.store.clone(), state.bus.clone(), shutdown.clone()));
        stop_serving.disarm();
        Ok(Self { address, server, state, shutdown, dispatcher, executor, kill, relay_stop, relay, queue })
    }

    /// The address actually bound (the port is the real one when the config asked for 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until shutdown, then drains: serving and the dispatcher stop, running executions record their end.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let mut server = self.server;
        let mut dispatcher = self.dispatcher;
        // Whichever of the long-running tasks ends first says why; any of them ending stops the others, so a
        // supervisor can restart a k8x that can no longer do its job instead of one that silently half-works.
        let served = tokio::select! {
            served = &mut server => {
                if !self.shutdown.is_cancelled() {
                    tracing::error!("the HTTP server stopped unexpectedly; stopping k8x");
                }
                self.shutdown.cancel();
                let _ = (&mut dispatcher).await;
                served
            }
            ended = &mut dispatcher => {
                if !self.shutdown.is_cancelled() {
                    tracing::error!(?ended, "the dispatcher stopped unexpectedly; stopping k8x");
                }
                self.shutdown.cancel();
                server.await
            }
        };
        let _ = self.queue.await;
        // Running executions get the grace period to finish; then their processes are killed and they end
        // interrupted.
        let grace = std::time::Duration::from_secs(self.state.config.shutdown_grace);
        if tokio::time::timeout(grace, self.executor.wait()).await.is_err() {
            tracing::warn!(?grace, "running executions did not finish within the grace period; stopping them");
            self.kill.cancel();
            self.executor.wait().await;
        }
        self.relay_stop.cancel();
        let _ = self.relay.await;
        tracing::info!("k8x stopped");
        served.context("the HTTP server task failed")?.context("serving HTTP")
    }
}

/// Serves `router` on `listener` until `stop` is cancelled. The peer address reaches the handlers (sign-in
/// throttling, the audit trail).
async fn serve(listener: TcpListener, router: Router, stop: CancellationToken) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(async move { stop.cancelled().await }).await
}

/// On Kafka, k8x deduplicates through its database: a process on its own SQLite file must not join a consumer
/// group k8x processes on another database are in (each would run what the others ran). Refuses to start if
/// the group has such members.
async fn refuse_a_private_database_in_a_shared_group(bus: &KafkaBus) -> anyhow::Result<()> {
    let group = backend::dispatcher::GROUP;
    let others = match bus.other_members(group).await {
        Ok(others) => others,
        Err(err) => {
            // Not allowed to describe groups, or a broker that cannot: nothing to go on.
            tracing::warn!(%err, "could not look at the dispatcher group's members; starting anyway");
            return Ok(());
        }
    };
    anyhow::ensure!(
        others.is_empty(),
        "the Kafka consumer group `{group}` has members on another database ({}), and this k8x keeps its state in \
         its own SQLite file: several k8x processes on one topic must share one database (set K8X_DATABASE_URL to \
         the PostgreSQL database the others use)",
        others.join(", ")
    );
    Ok(())
}

/// This k8x's name among the processes sharing a database: kept in the data directory (`instance`), so that
/// a restart is the same k8x — it takes back its own leases at once instead of waiting for them to run out.
fn instance_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("instance");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(err).with_context(|| format!("reading {}", path.display()))
        }
        _ => {}
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend::private_file::write(&path, id.as_bytes(), false) {
        Ok(()) => Ok(id),
        // Another process on this data directory wrote it first.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path).context("reading the instance id")?.trim().to_owned())
        }
        Err(err) => Err(err).with_context(|| format!("writing {}", path.display())),
    }
}

/// Makes the data directory (database, secret key, first admin's password) accessible to k8x's user only.
fn private_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating the data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making the data directory {} private", dir.display()))?;
    }
    Ok(())
}

/// Syncs the start-up project directory `dir`: a project of kind directory named after it.
async fn load(projects: &Projects, dir: &Path) -> anyhow::Result<()> {
    let Ok(dir) = dir.canonicalize() else {
        tracing::warn!(dir = %dir.display(), "the project directory does not exist; no project loaded");
        return Ok(());
    };
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "default".into());
    let name = if backend::projects::manage::check_name(&name).is_ok() { name } else { "default".into() };
    projects.ensure_directory(&name, &dir.display().to_string()).await?;
    // Another k8x on this database may be syncing it right now (starting up too): wait a little for it; if it
    // takes longer, start anyway and sync it in the background once it is free.
    let mut waited = 0;
    let sync = loop {
        match projects.sync(&name, "start-up").await {
            Err(backend::projects::ProjectError::Busy(_)) if waited < 150 => {
                waited += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(backend::projects::ProjectError::Busy(_)) => {
                tracing::warn!(project = %name, "the project is being synced elsewhere; syncing it once that ends");
                let projects = projects.clone();
                tokio::spawn(async move {
                    while let Err(backend::projects::ProjectError::Busy(_)) = projects.sync(&name, "start-up").await {
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                });
                return Ok(());
            }
            other => break other?,
        }
    };
    tracing::info!(project = %name, result = %sync.result, added = sync.added.len(), changed = sync.changed.len(), removed = sync.removed.len(), "project loaded");
    for problem in &sync.problems {
        tracing::warn!(%problem, "service not loaded");
    }
    Ok(())
}

/// The UI (Leptos pages, server functions, static assets) and the API, on one router.
fn router(state: &AppState, address: SocketAddr) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("k8x")
        .site_root(state.config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(address)
        .build();
    let routes = generate_route_list(app::App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let ui = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(leptos_options);
    // Sessions live in the database (shared by every process on it); a session ends when idle for
    // `session_idle_minutes` (here) or `session_lifetime_hours` after sign-in (checked by `authenticate`).
    let idle = Duration::minutes(state.config.session_idle_minutes.try_into().unwrap_or(i64::MAX / 120));
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.store.clone()))
        .with_name("k8x_session")
        .with_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_secure(state.config.served_over_https())
        .with_expiry(Expiry::OnInactivity(idle));
    // Outermost first: the browser guard, then sessions, then authentication, then the routes.
    backend::web::router(state)
        .with_state(state.clone())
        .merge(ui)
        .layer(axum::middleware::from_fn_with_state(state.clone(), backend::web::authenticate::authenticate))
        .layer(sessions)
        .layer(axum::middleware::from_fn(backend::web::browser::guard))
}

/// Removes expired sessions every ten minutes until k8x stops.
async fn sweep_sessions(sessions: DbSessionStore, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {
                if let Err(err) = sessions.delete_expired().await {
                    tracing::warn!(%err, "could not remove expired sessions");
                }
            }
        }
    }
}
